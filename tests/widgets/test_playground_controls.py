"""Playground controls (issue 26, items 5, 6, 7 and 11): settings refused beside their field,
failed sends that keep the text, cut answers, and the controls every playground has: regenerate,
edit, context use, stop sequences, seed, penalties, JSON mode and schema, tools, a raw-prompt
completion mode and logprobs. A real HTTP gateway over the fake engine, no browser."""

from __future__ import annotations

import json

import pytest

from tests.fakes import FakeEngine
from tests.widgets.test_playground import wait_for
from tokenfactory.engine.protocol import TokenLogprob
from tokenfactory.widgets.api import ApiError, GatewayApi
from tokenfactory.widgets.playground import Playground


@pytest.fixture
def pg(gateway):
    widget = Playground(base_url=gateway.base_url, api_key=gateway.api_key)
    widget.wait()
    yield widget
    widget.close()


def sent_messages(widget) -> list[dict]:
    """What the widget sends to the browser."""
    sent: list[dict] = []
    widget._send = lambda msg, buffers=None: sent.append(msg)
    return sent


# -- item 5: out-of-range settings are refused beside the field, and the field is reset


@pytest.mark.parametrize(
    ("name", "value", "kept", "message"),
    [
        ("temperature", 5.0, 0.7, "temperature must be between 0 and 2 (got 5)"),
        ("max_tokens", 0, 256, "max_tokens must be between 1 and 4096 (got 0)"),
        ("max_tokens", 32768, 256, "max_tokens must be between 1 and 4096 (got 32768)"),
        ("top_p", 0.0, 1.0, "top_p must be above 0 and at most 1 (got 0)"),
        ("presence_penalty", 3.0, 0.0, "presence_penalty must be between -2 and 2 (got 3)"),
    ],
)
def test_an_out_of_range_setting_from_the_browser_is_refused_beside_its_field(
    pg, name, value, kept, message
):
    sent = sent_messages(pg)
    pg.set_state({name: value})  # what the browser's field sends
    assert getattr(pg, name) == kept
    assert pg.field_errors == {name: message}
    # the browser is told the value the kernel kept, so the field shows it
    assert {"method": "update", "state": {name: kept}, "buffer_paths": []} in sent
    pg.set_state({name: kept})  # a valid value takes the message away
    assert pg.field_errors == {}


def test_the_ranges_are_the_apis_and_reach_the_browser(pg):
    assert pg.limits["max_tokens"] == [1, 4096]
    assert pg.limits["temperature"] == [0.0, 2.0]
    pg.set_state({"max_tokens": 4096})
    assert pg.max_tokens == 4096 and pg.field_errors == {}


def test_other_settings_are_checked_too(pg):
    pg.set_state({"stop_sequences": ["a", "b", "c", "d", "e"]})
    pg.set_state({"tools": [{"type": "function", "function": {"name": "bad name!"}}]})
    pg.set_state({"mode": "poetry"})
    assert pg.stop_sequences == [] and pg.tools == [] and pg.mode == "chat"
    assert pg.field_errors["stop_sequences"] == "at most 4 stop sequences"
    assert pg.field_errors["tools"].startswith("tool 1:")
    assert "chat, completion" in pg.field_errors["mode"]


# -- item 6: a failed send keeps the text, leaves no failed turn, and can be retried


def test_a_send_with_no_gateway_keeps_the_text(monkeypatch):
    from tokenfactory.sdk import ConfigurationError
    from tokenfactory.widgets import base

    def no_gateway(*args, **kwargs):
        raise ConfigurationError("no gateway here")

    # another test of the session may serve a gateway in this process; this one finds none
    monkeypatch.setattr(base, "resolve", no_gateway)
    widget = Playground()
    assert widget.connection is None
    widget._dispatch(widget, {"action": "send", "text": "my long question"}, [])
    assert widget.history == []
    assert widget.failed_input == "my long question"
    assert widget.error


def test_a_failed_turn_is_not_sent_again_and_retry_sends_it_once(pg, gateway):
    pg.model = "test/missing"
    assert pg.send("first try") is None
    assert pg.history == [] and pg.failed_input == "first try"
    pg.model = "test/chat"
    assert pg.retry() == "Hello from the fake engine."
    assert [m["role"] for m in pg.history] == ["user", "assistant"]
    assert pg.failed_input == "" and pg.error == ""
    # the next turn carries one user turn per message, not the failed one twice
    pg.send("second")
    prompt = "".join(chr(i) for i in gateway.engine.requests[-1].prompt_token_ids)
    assert prompt.count("<user>first try") == 1
    assert [m["role"] for m in pg.history] == ["user", "assistant"] * 2


def test_an_error_during_the_stream_restores_the_history(pg, monkeypatch):
    pg.send("one")
    before = list(pg.history)
    original = FakeEngine.generate

    async def breaks_after_two_tokens(self, request):
        async for out in original(self, request):
            yield out
            if len(self.requests) > 1:
                raise RuntimeError("engine fell over")

    monkeypatch.setattr(FakeEngine, "generate", breaks_after_two_tokens)
    assert pg.send("two") is None
    assert pg.error
    assert pg.history == before
    assert pg.failed_input == "two"


# -- item 7: answers cut by max_tokens


def test_a_reply_cut_mid_character_does_not_end_in_a_replacement_character(tf_home):
    from tests.widgets.live import live_gateway

    # the engine decoded the first byte of a character whose rest the token limit cut off
    with live_gateway(tf_home, replies=["Gr\ufffd\u00fc\u00df"]) as live:
        widget = Playground(base_url=live.base_url, api_key=live.api_key, max_tokens=3)
        widget.wait()
        assert widget.send("greet") == "Gr"
        assert widget.history[-1]["finish_reason"] == "length"
        widget.close()


# -- item 11: regenerate, edit, context use


def test_regenerate_asks_again_for_the_last_answer(pg, gateway):
    pg.send("one")
    pg.regenerate()
    assert [m["role"] for m in pg.history] == ["user", "assistant"]
    first, second = gateway.engine.requests[-2:]
    assert first.prompt_token_ids == second.prompt_token_ids


def test_edit_replaces_a_turn_and_answers_it_anew(pg, gateway):
    pg.send("one")
    pg.send("two")
    assert pg.edit(0, "changed") == "Hello from the fake engine."
    assert [m["content"] for m in pg.history if m["role"] == "user"] == ["changed"]
    prompt = "".join(chr(i) for i in gateway.engine.requests[-1].prompt_token_ids)
    assert "<user>changed" in prompt and "one" not in prompt and "two" not in prompt
    assert pg.edit(1, "not mine") is None and "not a message of yours" in pg.error


def test_actions_regenerate_and_edit_from_the_browser(pg):
    pg.send("one")
    pg._dispatch(pg, {"action": "edit", "index": 0, "text": "edited"}, [])
    wait_for(lambda: not pg.streaming and pg.history[-1]["role"] == "assistant")
    assert pg.history[0]["content"] == "edited"
    pg._dispatch(pg, {"action": "regenerate"}, [])
    wait_for(lambda: not pg.streaming and len(pg.history) == 2)
    assert pg.error == ""


def test_context_use_is_counted_by_the_gateway(pg, gateway):
    assert pg.context_length == 2048  # the model's, from /v1/models
    pg.system_prompt = "Be brief."
    pg.send("hello")
    pg.wait()
    request = gateway.engine.requests[-1]
    assert pg.prompt_tokens == len(request.prompt_token_ids)  # the last request's, from usage
    # the whole conversation as the next request sends it, counted by /v1/tokenize
    template = gateway.engine.tokenizer("test/chat").apply_chat_template(pg.messages)
    assert pg.context_used == len(template)
    assert pg.context_used > pg.prompt_tokens
    pg.clear()
    assert pg.context_used == 0


def test_without_tokenize_the_last_usage_counts(pg, monkeypatch):
    def no_tokenize(self, method, path, **kwargs):
        raise ApiError("Not Found", status=404)

    monkeypatch.setattr(GatewayApi, "request", no_tokenize)
    pg.send("hello")
    pg.wait()
    assert pg.context_used == pg.prompt_tokens + len(pg.history[-1]["content"])
    assert pg.error == ""


# -- item 11: sampling, structured output, tools


def test_stop_sequences_seed_and_penalties_reach_the_model(tf_home):
    from tests.widgets.live import live_gateway

    with live_gateway(tf_home, replies=["alpha beta STOP gamma"]) as live:
        widget = Playground(base_url=live.base_url, api_key=live.api_key)
        widget.wait()
        widget.stop_sequences = ["STOP"]
        widget.seed = 7
        widget.presence_penalty = 0.5
        widget.frequency_penalty = -0.25
        assert widget.send("go") == "alpha beta "
        assert widget.history[-1]["finish_reason"] == "stop"
        sampling = live.engine.requests[-1].sampling
        assert (sampling.seed, sampling.presence_penalty, sampling.frequency_penalty) == (
            7,
            0.5,
            -0.25,
        )
        code = widget.code_python
        for arg in ("stop=['STOP']", "seed=7", "presence_penalty=0.5", "frequency_penalty=-0.25"):
            assert arg in code
        compile(code, "<playground>", "exec")
        widget.close()


def test_json_mode_and_json_schema_constrain_the_answer(pg, gateway):
    pg.response_format = "json_object"
    pg.send("json please")
    assert gateway.engine.requests[-1].structured.json_object is True
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    pg.response_format = "json_schema"
    pg.json_schema = schema
    pg.send("schema please")
    assert gateway.engine.requests[-1].structured.json_schema == schema
    body = json.loads(pg.code_curl.split("-d '", 1)[1].rsplit("'", 1)[0])
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "playground", "schema": schema},
    }


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def test_tools_are_offered_and_tool_calls_shown(tf_home):
    from tests.widgets.live import live_gateway

    call = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'
    with live_gateway(tf_home, replies=[call]) as live:
        widget = Playground(base_url=live.base_url, api_key=live.api_key)
        widget.wait()
        widget.tools = [WEATHER]
        widget.send("weather in Paris?")
        answer = widget.history[-1]
        assert answer["finish_reason"] == "tool_calls"
        assert answer["tool_calls"][0]["name"] == "get_weather"
        assert json.loads(answer["tool_calls"][0]["arguments"]) == {"city": "Paris"}
        assert "get_weather" in widget.code_python
        widget.close()


def test_completion_mode_sends_a_raw_prompt(pg, gateway):
    pg.send("a chat turn")
    pg.mode = "completion"
    assert pg.send("Once upon a time") == "Hello from the fake engine."
    request = gateway.engine.requests[-1]
    assert "".join(chr(i) for i in request.prompt_token_ids) == "Once upon a time"
    assert [m.get("mode", "chat") for m in pg.history] == ["chat"] * 2 + ["completion"] * 2
    assert [m["content"] for m in pg.messages] == ["a chat turn", "Hello from the fake engine."]
    assert "client.completions.create(" in pg.code_python
    assert "prompt='Once upon a time'" in pg.code_python
    assert pg.code_curl.startswith(f"curl -N {pg.base_url}/completions ")


@pytest.fixture
def logprob_engine(monkeypatch):
    """The fake engine with logprobs: the token at position i has logprob -i/10; its
    alternatives are the next code points, each 1 less likely."""
    original = FakeEngine.generate

    async def generate(self, request):
        position = 0
        async for out in original(self, request):
            if request.logprobs is not None and out.token_ids:
                lp = -position / 10
                top = tuple((out.token_ids[0] + k, lp - k) for k in range(request.logprobs))
                out.logprobs = [TokenLogprob(out.token_ids[0], lp, top)]
                position += 1
            yield out

    monkeypatch.setattr(FakeEngine, "generate", generate)
    monkeypatch.setattr(FakeEngine, "supports_logprobs", True, raising=False)


@pytest.mark.parametrize("mode", ["chat", "completion"])
def test_logprobs_give_each_token_its_probability(logprob_engine, pg, mode):
    pg.mode = mode
    pg.logprobs = True
    pg.top_logprobs = 2
    answer_text = pg.send("hi")
    tokens = pg.history[-1]["logprobs"]
    assert "".join(t["token"] for t in tokens) == answer_text
    assert [t["logprob"] for t in tokens[:3]] == pytest.approx([0.0, -0.1, -0.2])
    assert [len(t["top"]) for t in tokens] == [2] * len(tokens)
    assert "logprobs" in pg.code_python
