"""The session's real VLLMEngine after its engine-core process is killed with SIGKILL (what a
crash in a kernel or the OOM killer does): the request that finds it dead is a 503 in our
error shape, the next one waits for the new instance and is answered, and the session's later
vLLM tests run on that instance."""

from __future__ import annotations

import signal

import openai
import pytest

from tokenfactory.config import DEFAULT_CHAT_MODEL

pytestmark = pytest.mark.integration


def engine_core(served) -> object:
    for proc in served.processes:
        if "EngineCor" in proc.name() or "EngineCore" in " ".join(proc.cmdline()):
            return proc
    raise AssertionError(f"no engine-core process among {[p.name() for p in served.processes]}")


def ask(client: openai.OpenAI) -> str:
    answer = client.chat.completions.create(
        model=DEFAULT_CHAT_MODEL,
        messages=[{"role": "user", "content": "Say hello."}],
        max_tokens=4,
        temperature=0,
    )
    return answer.choices[0].message.content or ""


def test_a_killed_engine_core_is_started_again_and_the_next_request_is_answered(vllm_server):
    engine = vllm_server.core.engine
    served = engine._served[DEFAULT_CHAT_MODEL]
    client = openai.OpenAI(
        base_url=vllm_server.base_url, api_key=vllm_server.api_key, max_retries=0, timeout=600
    )
    assert ask(client)
    dead, restarts = served.llm, len(engine.restarts)
    core = engine_core(served)
    core.send_signal(signal.SIGKILL)
    core.wait(30)

    with pytest.raises(openai.APIStatusError) as found_dead:
        ask(client)
    assert found_dead.value.status_code == 503
    assert "started again" in str(found_dead.value), found_dead.value

    assert ask(client), "the request after the death waits for the new instance"
    (record,) = engine.restarts[restarts:]
    assert record.ok and record.model == DEFAULT_CHAT_MODEL
    assert served.llm is not dead and served.status == "loaded"
    assert engine_core(served).is_running()
