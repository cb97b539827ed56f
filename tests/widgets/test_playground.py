"""Playground, Python side: a real HTTP gateway over the fake engine, no browser."""

from __future__ import annotations

import json
import time

import pytest

from tokenfactory.widgets.playground import Playground


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture
def pg(gateway):
    widget = Playground(base_url=gateway.base_url, api_key=gateway.api_key)
    widget.wait()
    yield widget
    widget.close()


def test_lists_chat_models_and_picks_a_loaded_one(pg):
    assert [m["id"] for m in pg.models] == ["test/chat"]
    assert pg.model == "test/chat"
    assert pg.error == ""


def test_send_streams_the_answer_into_history(pg, gateway):
    pg.system_prompt = "Be brief."
    pg.max_tokens = 64
    answer = pg.send("hi")
    assert answer == "Hello from the fake engine."
    assert [m["role"] for m in pg.history] == ["user", "assistant"]
    last = pg.history[-1]
    assert last["finish_reason"] == "stop"
    assert last["stats"]["completion_tokens"] == len(answer)
    assert last["stats"]["latency_s"] >= 0
    assert last["stats"]["tokens_per_s"] > 0
    assert pg.streaming is False and pg.draft == ""
    # the request carried the settings and the system prompt
    request = gateway.engine.requests[-1]
    assert request.sampling.max_tokens == 64
    assert pg.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": answer},
    ]


def test_second_turn_sends_the_whole_conversation(pg, gateway):
    pg.send("one")
    pg.send("two")
    assert [m["role"] for m in pg.history] == ["user", "assistant", "user", "assistant"]
    frame = pg.to_pandas()
    assert list(frame["role"]) == ["user", "assistant", "user", "assistant"]
    assert frame.loc[1, "completion_tokens"] == len(pg.history[1]["content"])
    assert {"content", "model", "latency_s", "tokens_per_s"} <= set(frame.columns)


def test_stop_keeps_the_partial_answer(tf_home):
    from tests.widgets.live import live_gateway

    reply = "word " * 400
    with live_gateway(tf_home, replies=[reply]) as live:
        live.engine.delay = 0.01
        pg = Playground(base_url=live.base_url, api_key=live.api_key, max_tokens=1000)
        pg.wait()
        pg.send("talk", wait=False)
        wait_for(lambda: len(pg.draft) > 10)
        pg.stop()
        assert pg.streaming is False
        last = pg.history[-1]
        assert last["finish_reason"] == "stopped"
        assert 0 < len(last["content"]) < len(reply)
        assert reply.startswith(last["content"])


def test_a_send_that_outlasts_its_wait_says_so_until_the_answer_arrives(tf_home):
    from tests.widgets.live import live_gateway

    with live_gateway(tf_home, replies=["word " * 100]) as live:
        live.engine.delay = 0.01
        pg = Playground(base_url=live.base_url, api_key=live.api_key, max_tokens=1000)
        pg.wait()
        assert pg.send("talk", timeout=0.2) is None
        assert "still streaming" in pg.error
        wait_for(lambda: not pg.streaming)
        assert pg.history[-1]["role"] == "assistant"
        assert pg.error == ""


def test_api_errors_land_in_the_error_trait(pg):
    pg.model = "test/missing"
    assert pg.send("hi") is None
    assert "test/missing" in pg.error
    assert pg.streaming is False
    assert pg.history == []  # the failed turn is not left to be sent again
    assert pg.failed_input == "hi"


def test_wrong_key_shows_the_api_message(gateway):
    pg = Playground(base_url=gateway.base_url, api_key="tf-not-a-key")
    pg.wait()
    assert "api key" in pg.error.lower()
    assert pg.models == []


def test_unreachable_gateway_is_an_error_not_an_exception():
    pg = Playground(base_url="http://127.0.0.1:9/v1", api_key="tf-x")
    pg.wait()
    assert "Cannot reach the gateway" in pg.error


def test_send_right_after_creation_waits_for_the_model_list(gateway):
    """Run All: the cell after ``pg = tf.Playground()`` sends before /v1/models has answered."""
    list_models = gateway.engine.models

    def slow_models():
        time.sleep(0.5)
        return list_models()

    gateway.engine.models = slow_models
    pg = Playground(base_url=gateway.base_url, api_key=gateway.api_key)
    try:
        assert pg.model == ""  # the list has not arrived yet
        assert pg.send("hi") == "Hello from the fake engine."
        assert pg.error == ""
        assert list(pg.to_pandas()["role"]) == ["user", "assistant"]
    finally:
        pg.close()


def test_an_error_stays_until_the_user_acts(pg):
    assert pg.send("   ") is None
    pg.refresh_models().join(10)  # a background refresh succeeds ...
    assert pg.error == "Type a message first"  # ... and leaves the message alone
    pg.model = "test/missing"
    assert pg.send("hi") is None
    failed = pg.error
    assert "test/missing" in failed
    pg.refresh_models().join(10)
    assert pg.error == failed
    pg.error = ""  # the banner's dismiss button
    assert pg.model == "test/chat"  # the refreshed list replaced the unknown model
    assert pg.send("again") == "Hello from the fake engine."
    assert pg.error == ""


def test_a_failed_model_list_is_cleared_by_a_later_successful_one(pg, gateway):
    list_models = gateway.engine.models

    def broken():
        raise RuntimeError("listing failed")

    gateway.engine.models = broken
    pg.refresh_models().join(10)
    assert pg.error
    gateway.engine.models = list_models
    pg.refresh_models().join(10)
    assert pg.error == ""


def test_no_chat_model_listed_is_reported_after_waiting(gateway):
    gateway.engine.models = lambda: []
    pg = Playground(base_url=gateway.base_url, api_key=gateway.api_key)
    try:
        assert pg.send("hi") is None
        assert "Pick a model first" in pg.error
        assert pg.history == []
    finally:
        pg.close()


def test_empty_message_and_no_model_are_reported(pg):
    assert pg.send("   ") is None
    assert pg.error == "Type a message first"
    pg.models = []
    pg.model = ""
    assert pg.send("hi") is None
    assert "model" in pg.error.lower()


def test_actions_from_javascript(pg):
    pg._dispatch(pg, {"action": "send", "text": "from the browser"}, [])
    wait_for(lambda: len(pg.history) == 2 and not pg.streaming)
    assert pg.history[0]["content"] == "from the browser"
    pg._dispatch(pg, {"action": "no-such-action"}, [])
    pg._dispatch(pg, {"action": "clear"}, [])
    assert pg.history == []


def test_a_failing_action_sets_error_instead_of_raising(pg):
    def boom(_msg):
        raise ValueError("handler broke")

    pg.on_action("boom", boom)
    pg._dispatch(pg, {"action": "boom"}, [])
    assert pg.error == "handler broke"


def test_adapters_of_the_selected_model_are_offered(gateway):
    gateway.engine._adapters["support-v1"] = "test/chat"
    # every engine adapter visible to this key (the LoRA feature narrows it to trained ones)
    gateway.core.adapter_filter = lambda adapters, _principal: adapters
    pg = Playground(base_url=gateway.base_url, api_key=gateway.api_key)
    pg.wait()
    assert pg.models[0]["adapters"] == ["support-v1"]
    pg.adapter = "support-v1"
    assert pg.request_model() == "support-v1"
    assert pg.send("hi") is not None
    assert gateway.engine.requests[-1].adapter == "support-v1"


def test_view_as_code_matches_the_settings(pg):
    pg.temperature = 0.3
    pg.max_tokens = 42
    pg.send("hello there")
    code = pg.code()
    compile(code["python"], "<playground>", "exec")
    assert "model='test/chat'" in code["python"] and "temperature=0.3" in code["python"]
    assert pg.code_python == code["python"]
    curl = code["curl"]
    assert curl.startswith(f"curl -N {pg.base_url}/chat/completions")
    body = json.loads(curl.split("-d '", 1)[1].rsplit("'", 1)[0])
    assert body["max_tokens"] == 42 and body["stream"] is True
    assert body["messages"][0] == {"role": "user", "content": "hello there"}
    assert pg.connection.api_key not in code["python"] + curl
