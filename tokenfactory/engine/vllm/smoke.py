"""Start a VLLMEngine on this machine, chat and embed once, shut down; prints what it saw.

    VLLM_CPU_KVCACHE_SPACE=1 python -m tokenfactory.engine.vllm.smoke

The ``__main__`` guard matters: vLLM spawns its engine core, which re-imports ``__main__``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def smoke() -> dict:
    from ...config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL
    from ..protocol import GenerationRequest, SamplingParams
    from .engine import VLLMEngine

    started = time.perf_counter()
    engine = VLLMEngine()
    await engine.start()
    report: dict = {
        "backend": engine.capabilities.backend,
        "start_s": round(time.perf_counter() - started, 1),
    }
    try:
        tokenizer = engine.tokenizer(DEFAULT_CHAT_MODEL)
        prompt = tokenizer.apply_chat_template(
            [{"role": "user", "content": "What is the capital of France?"}],
            add_generation_prompt=True,
            return_dict=True,
        )["input_ids"]
        request = GenerationRequest(
            "smoke-1", DEFAULT_CHAT_MODEL, list(prompt), SamplingParams(max_tokens=16)
        )
        tokens: list[int] = []
        reason = None
        async for out in engine.generate(request):
            tokens += out.token_ids
            reason = out.finish_reason
        report["chat"] = tokenizer.decode(tokens, skip_special_tokens=True)
        report["finish_reason"] = reason
        vectors = await engine.embed(DEFAULT_EMBEDDING_MODEL, ["hello", "world"])
        report["embedding_dims"] = [len(v) for v in vectors.vectors]
    finally:
        await engine.shutdown()
    return report


def main() -> int:
    report = asyncio.run(smoke())
    print(json.dumps(report, indent=2))
    ok = bool(report.get("chat")) and report.get("embedding_dims") == [384, 384]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
