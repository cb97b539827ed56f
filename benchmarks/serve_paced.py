"""The real /v1 gateway over a paced engine: the gateway's own cost, with no model running.

``PacedEngine`` uses SmolLM2's real tokenizer and answers every chat with real token ids of a
long English text (with multi-byte characters), one token per engine step, every ``step_s``
seconds for all running requests together (like a batched decoder). Whatever CPU this process
spends is then the gateway's: HTTP, auth, metering, detokenisation, stop strings, SSE.

    python -m benchmarks.serve_paced --port 8123 --key tf-bench --step-ms 20

Used by ``bench_serving_cpu --paced`` and for profiling (``py-spy record --pid``).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import threading
from collections.abc import AsyncIterator
from typing import Any

from tests.fakes import FakeEngine
from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.engine.protocol import GenerationOutput, GenerationRequest, ModelInfo

TEXT = (
    "The river bends past the old mill, where the café owner — Zoë — serves crêpes at dawn. "
    "Travellers cross the bridge, count the swallows, and talk about weather, maps and trains. "
    "日本の茶室では静かに時間が流れる。 Then the bell rings twice and the market opens. "
)


class PacedEngine(FakeEngine):
    name = "paced"

    def __init__(self, step_s: float) -> None:
        super().__init__(chat_model=DEFAULT_CHAT_MODEL)
        from transformers import AutoTokenizer

        from tokenfactory.engine.model_files import resolve

        self._tokenizer = AutoTokenizer.from_pretrained(resolve(DEFAULT_CHAT_MODEL))
        self.ids = self._tokenizer.encode(TEXT * 40, add_special_tokens=False)
        self.step_s = step_s
        self._tick = asyncio.Condition()
        self._clock: asyncio.Task | None = None

    async def _run_clock(self) -> None:
        while True:
            await asyncio.sleep(self.step_s)
            if self.running:
                async with self._tick:
                    self._tick.notify_all()

    async def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationOutput]:
        if self._clock is None:
            self._clock = asyncio.create_task(self._run_clock())
        n = min(request.sampling.max_tokens, len(self.ids))
        prompt = len(request.prompt_token_ids)
        self.running += 1
        try:
            for i in range(n):
                async with self._tick:
                    await self._tick.wait()
                last = i == n - 1
                yield GenerationOutput(
                    [self.ids[i]], last, "length" if last else None, num_prompt_tokens=prompt
                )
        finally:
            self.running -= 1

    def models(self) -> list[ModelInfo]:
        return [ModelInfo(DEFAULT_CHAT_MODEL, "chat", "loaded", self.name, context_length=8192)]

    def tokenizer(self, model: str) -> Any:
        return self._tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--key", default="tf-bench")
    parser.add_argument("--step-ms", type=float, default=20.0)
    args = parser.parse_args()

    from tokenfactory import server
    from tokenfactory.config import database_path
    from tokenfactory.core import Core
    from tokenfactory.features import install_features
    from tokenfactory.store import Store

    core = Core(PacedEngine(args.step_ms / 1000), Store(database_path()))
    install_features(core)
    core.keys.create_key("default", key=args.key, name="bench")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    handle = server.ServerHandle("127.0.0.1", args.port, args.key, "default", core)
    started = threading.Event()
    handle._thread = threading.Thread(
        target=server._run_server, args=(handle, sock, "warning", started), daemon=True
    )
    handle._thread.start()
    started.wait(30)
    handle.wait_ready(60)
    print("ready", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    handle.stop()


if __name__ == "__main__":
    main()
