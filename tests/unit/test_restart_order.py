"""After a restart nothing is answered from a half-started gateway: it says ready only once the
adapters it served are attached again, and a batch line that meets a passing 503 (an adapter or
model not back yet) runs again later instead of keeping that 503 as its result. A job is never
``completed`` without its result files."""

from __future__ import annotations

import asyncio
import json

from tests.fakes import FakeEngine
from tokenfactory.batch.service import BatchService
from tokenfactory.core import Core
from tokenfactory.features import install_features
from tokenfactory.lora.service import LoraService
from tokenfactory.store import Store


class SlowAdapterEngine(FakeEngine):
    """Attaching an adapter takes a while (a real engine reads and places its weights)."""

    async def load_adapter(self, name: str, path: str, base_model: str) -> None:
        await asyncio.sleep(0.3)
        await super().load_adapter(name, path, base_model)


def gateway(db, engine: FakeEngine | None = None) -> Core:
    core = Core(engine or FakeEngine(), Store(db))
    install_features(core)
    return core


def peft_folder(tmp_path):
    folder = tmp_path / "peft"
    folder.mkdir(exist_ok=True)
    config = {"peft_type": "LORA", "r": 8, "base_model_name_or_path": "test/chat"}
    (folder / "adapter_config.json").write_text(json.dumps(config))
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    return folder


def chat_lines(model: str, count: int) -> bytes:
    rows = [
        {"custom_id": f"c{i}", "body": {"model": model, "max_tokens": 3,
         "messages": [{"role": "user", "content": f"line {i}"}]}}
        for i in range(count)
    ]  # fmt: skip
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


async def wait_for(predicate, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_ready_only_once_the_adapters_are_attached_again(tf_home, tmp_path):
    first = gateway(tf_home / "db.sqlite3")
    await first.start_engine()
    _, key = first.keys.create_key("default", name="t")
    me = first.keys.authenticate(key)
    assert LoraService in first.installed
    record = await first.installed[LoraService].import_adapter(
        me, {"name": "kept", "path": str(peft_folder(tmp_path))}
    )
    await first.shutdown()

    restarted = gateway(tf_home / "db.sqlite3", SlowAdapterEngine())
    starting = asyncio.create_task(restarted.start_engine())
    await wait_for(lambda: restarted.ready or starting.done())
    # the first moment it says ready (GET /health answers 200 from this flag), the adapter is back
    assert restarted.engine.adapters() == {record.id: "test/chat"}
    await starting
    await restarted.shutdown()


async def test_a_line_that_meets_a_passing_503_runs_again_and_succeeds(tf_home, tmp_path):
    core = gateway(tf_home / "db.sqlite3")
    await core.start_engine()
    _, key = core.keys.create_key("default", name="t")
    me = core.keys.authenticate(key)
    assert LoraService in core.installed and BatchService in core.installed
    record = await core.installed[LoraService].import_adapter(
        me, {"name": "styled", "path": str(peft_folder(tmp_path))}
    )
    job = core.installed[BatchService].submit(me, chat_lines("styled", 4), "24h")
    engine = core.engine
    assert isinstance(engine, FakeEngine)
    base = engine._adapters.pop(record.id)  # the adapter is gone for a while (a restart)
    await asyncio.sleep(1.0)  # its lines meet "not loaded" (503) meanwhile
    engine._adapters[record.id] = base
    await wait_for(lambda: core.installed[BatchService].get(me, job["id"])["status"] == "completed")
    done = core.installed[BatchService].get(me, job["id"])
    assert (done["completed"], done["failed"]) == (4, 0)
    results = [
        json.loads(line)
        for line in b"".join(core.installed[BatchService].results(me, job["id"])).splitlines()
    ]
    assert all(r["response"]["status_code"] == 200 for r in results)
    await core.shutdown()


async def test_a_job_is_never_completed_without_its_result_files(tf_home, monkeypatch):
    from tokenfactory.batch.files import ResultFiles

    core = gateway(tf_home / "db.sqlite3")
    _, key = core.keys.create_key("default", name="t")
    me = core.keys.authenticate(key)
    assert BatchService in core.installed
    failures = []
    real_write = ResultFiles.write

    def disk_full_once(self, job):
        if not failures:
            failures.append(job["id"])
            raise OSError(28, "No space left on device")
        return real_write(self, job)

    monkeypatch.setattr(ResultFiles, "write", disk_full_once)
    job = core.installed[BatchService].submit(me, chat_lines("test/chat", 3), "24h")
    await core.start_engine()
    await wait_for(lambda: bool(failures))
    state = core.installed[BatchService].get(me, job["id"])
    assert state["status"] != "completed" or state["output_file_id"] is not None, state
    # the next pass writes the files and only then says completed
    await wait_for(lambda: core.installed[BatchService].get(me, job["id"])["status"] == "completed")
    assert core.installed[BatchService].get(me, job["id"])["output_file_id"] is not None
    await core.shutdown()
