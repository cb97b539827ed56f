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
