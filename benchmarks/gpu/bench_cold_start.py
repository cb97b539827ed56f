"""Cold start: a fresh process to the first streamed token, ``tf.serve()`` vs bare AsyncLLM.

Both start from ``python -c`` (imports included) with the same engine settings and stream one
chat answer; the model conversion is done once before either is timed.

    python -m benchmarks.gpu.bench_cold_start [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from . import common

TF_SCRIPT = r"""
import time
t0 = time.perf_counter()
import tokenfactory as tf
from openai import OpenAI
server = tf.serve(["%(model)s"], embedding_models=[], engine="vllm", new=True)
client = OpenAI(base_url=server.base_url, api_key=server.api_key)
for chunk in client.chat.completions.create(model="%(model)s", stream=True, max_tokens=8,
        messages=[{"role": "user", "content": "Hello"}]):
    if chunk.choices and chunk.choices[0].delta.content:
        break
print("FIRST_TOKEN_S", time.perf_counter() - t0, flush=True)
server.stop()
"""

VLLM_SCRIPT = r"""
import time
t0 = time.perf_counter()
import asyncio, json, sys
from vllm import AsyncEngineArgs, SamplingParams
from vllm.sampling_params import RequestOutputKind
from vllm.v1.engine.async_llm import AsyncLLM
from transformers import AutoTokenizer

async def main():
    args = json.loads(sys.argv[1])
    llm = AsyncLLM.from_engine_args(AsyncEngineArgs(**args))
    tok = AutoTokenizer.from_pretrained(args["tokenizer"])
    prompt = tok.apply_chat_template([{"role": "user", "content": "Hello"}], tokenize=False,
                                     add_generation_prompt=True)
    params = SamplingParams(max_tokens=8, output_kind=RequestOutputKind.DELTA)
    async for out in llm.generate(prompt, params, "cold"):
        if out.outputs[0].token_ids:
            break
    print("FIRST_TOKEN_S", time.perf_counter() - t0, flush=True)
    llm.shutdown()

asyncio.run(main())
"""


def timed(command: list[str]) -> float:
    done = subprocess.run(command, capture_output=True, text=True, cwd=common.ROOT, check=False)
    lines = [x for x in done.stdout.splitlines() if x.startswith("FIRST_TOKEN_S ")]
    if not lines:
        raise RuntimeError(f"cold start run failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return float(lines[-1].split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    path = common.chat_model_path()
    engine_args = json.dumps(common.engine_args(path))
    ours, bare = [], []
    for _ in range(args.repeats):  # alternate, so drift hits both sides alike
        bare.append(timed([sys.executable, "-c", VLLM_SCRIPT, engine_args]))
        ours.append(timed([sys.executable, "-c", TF_SCRIPT % {"model": common.CHAT_MODEL}]))
        time.sleep(2)
    common.record(
        "cold_start_to_first_token",
        {
            "tokenfactory_serve_s": [round(x, 2) for x in ours],
            "bare_async_llm_s": [round(x, 2) for x in bare],
            "ratio_best": round(min(ours) / min(bare), 3),
        },
    )


if __name__ == "__main__":
    main()
