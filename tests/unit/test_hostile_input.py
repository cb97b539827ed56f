"""Issue 27's hostile inputs: each one a client can send is a 4xx in the error shape naming the
field (or is served correctly), never a 500 or a silent 200 that ignores it; the gateway keeps
answering afterwards. The gateway is the real app over the fake engine: these limits live at
the wire, above every engine."""

from __future__ import annotations

import json
import time

import pytest

CHAT = "/v1/chat/completions"


def lora_repository(core):
    from tokenfactory.lora.service import LoraService

    return core.installed.get(LoraService).repository


LONE_SURROGATE = "\ud800"
DEEP = 5_000  # far past any parser's recursion limit
NESTED = 200  # within the parser's reach, past the documented nesting limit


def chat(**overrides) -> dict:
    return {"model": "test/chat", "messages": [{"role": "user", "content": "hi"}], **overrides}


def nested_schema(depth: int) -> dict:
    schema: dict = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


def nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def tool(parameters: dict) -> dict:
    return {"type": "function", "function": {"name": "f", "parameters": parameters}}


def raw(text: str) -> bytes:
    return text.encode()


CASES = [
    # (name, method, path, json body | raw bytes, expected status, field named)
    (
        "lone surrogate in chat content",
        "POST",
        CHAT,
        chat(messages=[{"role": "user", "content": LONE_SURROGATE}]),
        400,
        "messages[0].content",
    ),
    (
        "lone surrogate in a content part",
        "POST",
        CHAT,
        chat(messages=[{"role": "user", "content": [{"type": "text", "text": "a\udfffb"}]}]),
        400,
        "messages[0].content",
    ),
    (
        "lone surrogate in an embeddings input",
        "POST",
        "/v1/embeddings",
        {"model": "test/embed", "input": ["ok", LONE_SURROGATE]},
        400,
        "input",
    ),
    (
        "lone surrogate in a completions prompt",
        "POST",
        "/v1/completions",
        {"model": "test/chat", "prompt": LONE_SURROGATE},
        400,
        "prompt",
    ),
    ("seed 2**64 (chat)", "POST", CHAT, chat(seed=2**64), 400, "seed"),
    ("seed 10**30 (chat)", "POST", CHAT, chat(seed=10**30), 400, "seed"),
    ("seed -1 (chat)", "POST", CHAT, chat(seed=-1), 400, "seed"),
    ("seed 2**64 streamed", "POST", CHAT, chat(seed=2**64, stream=True), 400, "seed"),
    (
        "seed 10**30 (completions)",
        "POST",
        "/v1/completions",
        {"model": "test/chat", "prompt": "x", "seed": 10**30},
        400,
        "seed",
    ),
    (
        "seed 2**64 streamed (completions)",
        "POST",
        "/v1/completions",
        {"model": "test/chat", "prompt": "x", "seed": 2**64, "stream": True},
        400,
        "seed",
    ),
    (
        "response_format schema nested 150 deep",
        "POST",
        CHAT,
        chat(
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": nested_schema(150)},
            }
        ),
        400,
        "response_format",
    ),
    (
        "response_format schema nested 400 deep",
        "POST",
        CHAT,
        chat(
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": nested_schema(400)},
            }
        ),
        400,
        "response_format",
    ),
    (
        "tool parameters nested 150 deep",
        "POST",
        CHAT,
        chat(tools=[tool(nested_schema(150))]),
        400,
        "tools",
    ),
    (
        "tool parameters nested 400 deep",
        "POST",
        CHAT,
        chat(tools=[tool(nested_schema(400))]),
        400,
        "tools",
    ),
    (
        "assistant tool_calls arguments nested deeply",
        "POST",
        CHAT,
        chat(
            messages=[
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": nested_json(DEEP)},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "done"},
            ]
        ),
        400,
        "tool_calls[0].function.arguments",
    ),
    (
        "a body nested past any parser's recursion limit",
        "POST",
        CHAT,
        raw('{"model": "test/chat", "messages": ' + nested_json(DEEP) + "}"),
        400,
        None,
    ),
    ("max_tokens true", "POST", CHAT, chat(max_tokens=True), 400, "max_tokens"),
    ("max_tokens '4'", "POST", CHAT, chat(max_tokens="4"), 400, "max_tokens"),
    ("max_tokens 4.0", "POST", CHAT, chat(max_tokens=4.0), 400, "max_tokens"),
    ("temperature '1'", "POST", CHAT, chat(temperature="1"), 400, "temperature"),
    ("stream 1", "POST", CHAT, chat(stream=1), 400, "stream"),
    ("logprobs 'true'", "POST", CHAT, chat(logprobs="true"), 400, "logprobs"),
    (
        "completions echo 'yes'",
        "POST",
        "/v1/completions",
        {"model": "test/chat", "prompt": "x", "echo": "yes"},
        400,
        "echo",
    ),
    (
        "temperature NaN",
        "POST",
        CHAT,
        raw(json.dumps(chat()).replace("}", ', "temperature": NaN}', 1)),
        400,
        "temperature",
    ),
    (
        "temperature 1e400",
        "POST",
        CHAT,
        raw(json.dumps(chat())[:-1] + ', "temperature": 1e400}'),
        400,
        "temperature",
    ),
    (
        "completions prompt list too long",
        "POST",
        "/v1/completions",
        {"model": "test/chat", "prompt": ["x"] * 2049, "max_tokens": 1},
        400,
        "prompt",
    ),
    (
        "embeddings input list too long",
        "POST",
        "/v1/embeddings",
        {"model": "test/embed", "input": ["x"] * 2049},
        400,
        "input",
    ),
    ("usage start=nan", "GET", "/v1/usage?start=nan", None, 400, "start"),
    ("usage start=inf", "GET", "/v1/usage?start=inf", None, 400, "start"),
    ("usage start=-inf", "GET", "/v1/usage?start=-inf", None, 400, "start"),
    ("usage start=1e400", "GET", "/v1/usage?start=1e400", None, 400, "start"),
    ("usage end=1e300", "GET", "/v1/usage?end=1e300", None, 400, "end"),
    ("timeseries start=nan", "GET", "/v1/usage/timeseries?start=nan", None, 400, "start"),
]


def send(api, method: str, path: str, body, headers: dict | None = None):
    """``body`` as JSON text with escapes (``"\\ud800"``), as a client would send it."""
    if body is None:
        return api.request(method, path, headers=headers)
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {**(headers or {}), "content-type": "application/json"}
    return api.request(method, path, content=content, headers=headers)


def assert_error(response, status: int, field: str | None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "code"} and error["message"]
    if field:
        assert field in error["message"] or field == error.get("param"), error


def assert_still_serving(api) -> None:
    assert api.get("/health").status_code == 200
    ok = api.post(CHAT, json=chat(max_tokens=3))
    assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"] == "Hel"


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "status", "field"), CASES, ids=[c[0] for c in CASES]
)
def test_hostile_request_is_a_4xx_naming_the_field(api, name, method, path, body, status, field):
    assert_error(send(api, method, path, body), status, field)
    assert_still_serving(api)


def test_a_seed_at_the_top_of_the_range_is_served(api, fake_engine):
    ok = api.post(CHAT, json=chat(seed=2**64 - 1, max_tokens=2))
    assert ok.status_code == 200, ok.text
    assert fake_engine.requests[-1].sampling.seed == 2**64 - 1


def test_the_openai_client_shapes_still_pass(api):
    """Strict types refuse a bool or a string for a number, not an int for a float."""
    ok = api.post(CHAT, json=chat(temperature=0, top_p=1, max_tokens=2, seed=0, logprobs=False))
    assert ok.status_code == 200, ok.text
    ok = api.post(
        CHAT,
        json=chat(
            messages=[
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"a": [1, {"b": 2}]}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "done"},
            ],
            max_tokens=2,
        ),
    )
    assert ok.status_code == 200, ok.text


# -- admin: balances are finite and bounded -----------------------------------------------------
@pytest.fixture
def admin(admin_headers) -> dict:
    return admin_headers


BALANCES = [
    ("balance_usd 1e300", raw('{"balance_usd": 1e300}'), "balance_usd"),
    ("balance_usd NaN", raw('{"balance_usd": NaN}'), "balance_usd"),
    ("balance_usd Infinity", raw('{"balance_usd": Infinity}'), "balance_usd"),
    ("balance_usd 1e400", raw('{"balance_usd": 1e400}'), "balance_usd"),
    ("balance_usd true", raw('{"balance_usd": true}'), "balance_usd"),
    ("balance_micros 2**63", raw(f'{{"balance_micros": {2**63}}}'), "balance_micros"),
    ("balance_micros 1.5", raw('{"balance_micros": 1.5}'), "balance_micros"),
]


@pytest.mark.parametrize(("name", "body", "field"), BALANCES, ids=[b[0] for b in BALANCES])
def test_a_balance_is_finite_and_bounded(api, admin, name, body, field):
    assert api.post("/v1/admin/workspaces", json={"name": "team"}, headers=admin).status_code == 200
    assert_error(send(api, "PATCH", "/v1/admin/workspaces/team", body, admin), 400, field)
    assert api.get("/v1/admin/workspaces/team", headers=admin).json()["balance_micros"] is None


def test_a_workspace_created_with_a_huge_balance_is_refused(api, admin):
    r = send(
        api, "POST", "/v1/admin/workspaces", raw('{"name": "rich", "balance_usd": 1e300}'), admin
    )
    assert_error(r, 400, "balance_usd")
    assert api.get("/v1/admin/workspaces/rich", headers=admin).status_code == 404


def test_a_bounded_balance_is_kept_exactly(api, admin):
    r = api.post("/v1/admin/workspaces", json={"name": "ok", "balance_usd": 12.5}, headers=admin)
    assert r.status_code == 200 and r.json()["balance_micros"] == 12_500_000
    r = api.patch("/v1/admin/workspaces/ok", json={"balance_micros": 10**15}, headers=admin)
    assert r.status_code == 200 and r.json()["balance_micros"] == 10**15


# -- adapter import: a broken folder is a 400 ---------------------------------------------------
IMPORTS = [
    ("invalid JSON", b"{not json", True),
    ("a list", b"[1, 2]", True),
    ("not UTF-8", b'{"r": 8, "x": "\xff\xfe"}', True),
    ("r a string", b'{"peft_type": "LORA", "r": "x"}', True),
    ("r negative", b'{"peft_type": "LORA", "r": -4}', True),
    ("lora_alpha NaN", b'{"peft_type": "LORA", "r": 8, "lora_alpha": NaN}', True),
    ("no weights", b'{"peft_type": "LORA", "r": 8}', False),
]


@pytest.mark.parametrize(("name", "config", "weights"), IMPORTS, ids=[i[0] for i in IMPORTS])
def test_importing_a_broken_adapter_folder_is_a_400(api, admin, tmp_path, name, config, weights):
    (tmp_path / "adapter_config.json").write_bytes(config)
    if weights:
        (tmp_path / "adapter_model.safetensors").write_bytes(b"weights")
    body = {"name": "brought", "path": str(tmp_path), "base_model": "test/chat"}
    assert_error(api.post("/v1/adapters/import", json=body, headers=admin), 400, "path")
    assert api.get("/v1/adapters/brought").status_code == 404  # nothing half-registered
    assert_still_serving(api)


# -- JSONL files: lines split on \n only, deep lines refused by number ---------------------------
def training_rows(text: str, n: int = 10) -> list[dict]:
    return [
        {
            "messages": [
                {"role": "user", "content": f"q{i} {text}"},
                {"role": "assistant", "content": f"a{i} {text}"},
            ]
        }
        for i in range(n)
    ]


def test_a_deeply_nested_training_line_is_named_by_number(api):
    assert api.post("/v1/adapters", json={"name": "deep"}).status_code == 200
    lines = [json.dumps(r) for r in training_rows("x")]
    lines.insert(3, '{"messages": [], "meta": ' + nested_json(DEEP) + "}")
    r = api.post("/v1/adapters/deep/training_data", content="\n".join(lines).encode())
    assert_error(r, 400, "line 4")
    assert_still_serving(api)


@pytest.mark.parametrize("separator", ["\u2028", "\u0085", "\u2029"])
def test_training_data_with_unicode_line_breaks_in_strings_uploads_and_trains(
    api, fake_gateway, separator
):
    assert api.post("/v1/adapters", json={"name": "lines"}).status_code == 200
    raw_rows = "\n".join(json.dumps(r, ensure_ascii=False) for r in training_rows(separator))
    escaped_rows = "\n".join(json.dumps(r) for r in training_rows(separator))
    for body in (raw_rows, escaped_rows):
        r = api.post("/v1/adapters/lines/training_data", content=body.encode())
        assert r.status_code == 200, r.text
        assert r.json()["training_examples"] == 10
    # training re-reads the stored file: it must parse the same way
    from tokenfactory.lora.dataset import parse_jsonl

    records = lora_repository(fake_gateway)
    record = records.find(fake_gateway.keys.find_workspace("default").id, "lines")
    assert len(parse_jsonl(records.training_file(record.id).read_bytes())) == 10


def test_a_deeply_nested_batch_line_is_named_by_number(api):
    lines = [
        json.dumps({"custom_id": "a", "body": chat(max_tokens=1)}),
        '{"custom_id": "b", "body": ' + nested_json(DEEP) + "}",
        '{"custom_id": "c", "body": {"model": "test/chat", "messages": '
        + nested_json(NESTED)
        + "}}",
    ]
    r = api.post("/v1/batch", files={"file": ("b.jsonl", "\n".join(lines).encode())})
    assert_error(r, 400, "line 2")
    assert "line 3" in r.json()["error"]["message"]
    assert_still_serving(api)


@pytest.mark.parametrize("separator", ["\u2028", "\u0085", "\u2029", "\x1c"])
def test_a_batch_line_with_a_unicode_line_break_in_a_string_is_accepted(api, separator):
    line = {
        "custom_id": "a",
        "body": chat(messages=[{"role": "user", "content": f"a{separator}b"}]),
    }
    data = (json.dumps(line, ensure_ascii=False) + "\n").encode()
    r = api.post("/v1/batch", files={"file": ("b.jsonl", data)})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 30
    while api.get(f"/v1/batch/{r.json()['id']}").json()["status"] != "completed":
        assert time.monotonic() < deadline, "the batch did not finish"
        time.sleep(0.05)


def test_a_large_body_is_decoded_off_the_event_loop_under_the_same_rules(api, monkeypatch):
    import threading

    from tokenfactory.gateway import json_body

    threads: list[str] = []
    original = json_body.loads

    def recording_loads(body: bytes):
        threads.append(threading.current_thread().name)
        return original(body)

    monkeypatch.setattr(json_body, "loads", recording_loads)
    long_text = [{"role": "user", "content": "word " * (json_body.OFF_LOOP_BYTES // 5)}]
    small = api.post(CHAT, json=chat(max_tokens=2))
    large = api.post(CHAT, json=chat(max_tokens=2, messages=long_text))
    broken = api.post(CHAT, json=chat(messages=long_text, seed=2**64))
    assert small.status_code == 200, small.text
    assert_error(large, 400, "messages")  # decoded, then measured against the context
    assert_error(broken, 400, "seed")
    loop_thread, *off_loop = threads
    assert all(name != loop_thread for name in off_loop) and len(off_loop) == 2


LARGE_TEXT = "word " * (256 * 1024 // 5)  # past json_body.OFF_LOOP_BYTES once encoded
LARGE_BODIES = [
    # (path, a large valid body, the same with a field of the wrong JSON type, that field)
    (CHAT, chat(max_tokens=2, messages=[{"role": "user", "content": LARGE_TEXT}]), "max_tokens"),
    ("/v1/completions", {"model": "test/chat", "prompt": LARGE_TEXT, "max_tokens": 2}, "n"),
    ("/v1/embeddings", {"model": "test/embed", "input": [LARGE_TEXT[:150]] * 2000}, "dimensions"),
    ("/v1/responses", {"model": "test/chat", "input": LARGE_TEXT}, "max_output_tokens"),
]


@pytest.mark.parametrize(("path", "body", "field"), LARGE_BODIES, ids=[b[0] for b in LARGE_BODIES])
def test_a_large_body_is_validated_off_the_event_loop_with_the_same_errors(
    api, monkeypatch, path, body, field
):
    import threading

    from fastapi.routing import APIRoute

    route = next(r for r in api.app.router.routes if isinstance(r, APIRoute) and r.path == path)
    (body_field,) = route.dependant.body_params
    adapter = body_field._type_adapter
    threads: list[threading.Thread] = []

    class RecordingAdapter:  # the pydantic validation of the route's wire model
        def validate_python(self, *args, **kwargs):
            threads.append(threading.current_thread())
            return adapter.validate_python(*args, **kwargs)

    monkeypatch.setattr(body_field, "_type_adapter", RecordingAdapter())
    loop_thread = api.portal.call(threading.current_thread)
    small = {**body, "input": "hi"} if "input" in body else chat(max_tokens=2)
    if path == "/v1/completions":
        small = {**body, "prompt": "hi"}
    assert api.post(path, json=small).status_code == 200
    assert threads == [loop_thread]  # a small body: validated in place, as always
    threads.clear()
    valid = api.post(path, json=body)
    assert valid.status_code in (200, 400), valid.text  # 400: longer than the test model's context
    if valid.status_code == 400:
        assert valid.json()["error"]["param"] != field
    wrong_type = api.post(path, json={**body, field: "4"})
    assert_error(wrong_type, 400, field)  # the error FastAPI would have made on the loop
    assert len(threads) == 2 and loop_thread not in threads
    # still after authentication: a large body without a key is a 401, not a 400
    anonymous = api.post(path, json={**body, field: "4"}, headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_large_uploads_are_parsed_and_validated_off_the_event_loop(api, fake_gateway, monkeypatch):
    import threading

    from tokenfactory.batch import service as batch_service
    from tokenfactory.gateway.routes import openai_batches
    from tokenfactory.lora import service as lora_service

    threads: dict[str, list[threading.Thread]] = {}

    def recording(name, work):
        def run(*args, **kwargs):
            threads.setdefault(name, []).append(threading.current_thread())
            return work(*args, **kwargs)

        return run

    monkeypatch.setattr(batch_service, "parse_batch", recording("batch", batch_service.parse_batch))
    monkeypatch.setattr(lora_service, "parse_jsonl", recording("lora", lora_service.parse_jsonl))
    monkeypatch.setattr(
        openai_batches, "parse_jsonl", recording("files", openai_batches.parse_jsonl)
    )
    loop_thread = api.portal.call(threading.current_thread)
    fake_gateway.keys.set_balance("default", 1)  # parsed and priced, then refused: nothing runs
    line = {"custom_id": "a", "body": chat(messages=[{"role": "user", "content": LARGE_TEXT}])}
    batch = (json.dumps(line) + "\n").encode()
    r = api.post("/v1/batch", files={"file": ("b.jsonl", batch)}, data={"sla": "24h"})
    assert_error(r, 402, None)
    turns = [{"role": r, "content": LARGE_TEXT[:20_000]} for r in ("user", "assistant")]
    conversation = {"messages": turns}
    training = "".join(json.dumps(conversation) + "\n" for _ in range(10)).encode()
    r = api.post("/v1/files", files={"file": ("t.jsonl", training)}, data={"purpose": "fine-tune"})
    assert r.status_code == 200, r.text
    assert api.post("/v1/adapters", json={"name": "big"}).status_code == 200
    r = api.post("/v1/adapters/big/training_data", files={"file": ("t.jsonl", training)})
    assert r.status_code == 200, r.text
    assert r.json()["training_examples"] == 10
    assert set(threads) == {"batch", "files", "lora"}
    assert loop_thread not in [t for ts in threads.values() for t in ts]
