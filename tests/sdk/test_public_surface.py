"""What ``import tokenfactory`` promises: a sorted, complete ``__all__`` and no torch."""

from __future__ import annotations

import subprocess
import sys

import tokenfactory
import tokenfactory.sdk as sdk

SDK_NAMES = set(sdk.__all__)


def test_all_is_sorted_and_unique():
    assert tokenfactory.__all__ == sorted(set(tokenfactory.__all__))
    assert sdk.__all__ == sorted(set(sdk.__all__))


def test_every_sdk_name_is_public_at_top_level():
    missing = SDK_NAMES - set(tokenfactory.__all__)
    assert not missing, f"add to tokenfactory._LAZY: {sorted(missing)}"
    for name in SDK_NAMES:
        assert getattr(tokenfactory, name) is getattr(sdk, name)


def test_every_public_name_resolves():
    for name in tokenfactory.__all__:
        if name in SDK_NAMES or name == "__version__":
            assert getattr(tokenfactory, name) is not None


def test_sdk_public_names_are_defined_in_the_sdk():
    for name in sdk.__all__:
        assert getattr(sdk, name).__module__.startswith("tokenfactory.sdk")


def test_import_stays_free_of_heavy_modules():
    code = (
        "import sys, tokenfactory as tf\n"
        "tf.TokenFactory, tf.AsyncTokenFactory, tf.map_prompts, tf.RateLimitError\n"
        "heavy = {'torch', 'transformers', 'peft', 'vllm'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_type_checkers_see_every_sdk_name_with_its_type():
    """``tf.TokenFactory`` resolves lazily at run time; the ``if TYPE_CHECKING`` block in
    ``tokenfactory/__init__.py`` gives mypy the real class (not ``Any``) for each SDK name."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(tokenfactory.__file__).read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )
    typed = {
        target.id
        for node in block.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert typed == SDK_NAMES | {"MissingExtraError"}
