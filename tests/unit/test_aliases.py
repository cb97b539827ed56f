"""Model aliases (``--alias NAME=MODEL``) on the fake engine: every endpoint answers an alias as
the model it names, usage records that model, /v1/models lists the aliases, and a bad alias is
refused with a clear error (at start, on the command line and through /v1/admin/aliases)."""

from __future__ import annotations

import json

import pytest

from tests.unit.test_batch_api import jsonl, results, wait_for
from tokenfactory.core.aliases import parse_aliases
from tokenfactory.errors import InvalidRequestError

CHAT_ALIAS, EMBED_ALIAS = "gpt-4o-mini", "text-embedding-ada-002"


@pytest.fixture
def aliased(api, fake_gateway):
    fake_gateway.aliases.update({CHAT_ALIAS: "test/chat", EMBED_ALIAS: "test/embed"})
    return api


def usage_models(fake_gateway) -> list[tuple[str, str]]:
    rows = fake_gateway.store.all("SELECT endpoint, model FROM usage_records ORDER BY id")
    return [(r["endpoint"], r["model"]) for r in rows]


def test_every_endpoint_answers_an_alias_as_its_model(aliased, fake_gateway):
    hi = [{"role": "user", "content": "hi"}]
    chat = aliased.post("/v1/chat/completions", json={"model": CHAT_ALIAS, "messages": hi})
    assert chat.status_code == 200, chat.text
    assert chat.json()["model"] == "test/chat"
    body = {"model": CHAT_ALIAS, "messages": hi, "stream": True}
    streamed = aliased.post("/v1/chat/completions", json=body)
    chunks = [json.loads(x[6:]) for x in streamed.text.splitlines() if x.startswith("data: {")]
    assert chunks and {c["model"] for c in chunks} == {"test/chat"}
    completion = aliased.post("/v1/completions", json={"model": CHAT_ALIAS, "prompt": "ab"})
    assert completion.status_code == 200 and completion.json()["model"] == "test/chat"
    emb = aliased.post("/v1/embeddings", json={"model": EMBED_ALIAS, "input": "x"})
    assert emb.status_code == 200 and emb.json()["model"] == "test/embed"
    tok = aliased.post("/tokenize", json={"model": CHAT_ALIAS, "prompt": "abc"})
    assert tok.status_code == 200 and tok.json()["tokens"] == [97, 98, 99]
    response = aliased.post("/v1/responses", json={"model": CHAT_ALIAS, "input": "hi"})
    assert response.status_code == 200 and response.json()["model"] == "test/chat"
    assert usage_models(fake_gateway) == [
        ("/v1/chat/completions", "test/chat"),
        ("/v1/chat/completions", "test/chat"),
        ("/v1/completions", "test/chat"),
        ("/v1/embeddings", "test/embed"),
        ("/v1/tokenize", "test/chat"),
        ("/v1/responses", "test/chat"),
    ]
    by_model = aliased.get("/v1/usage", params={"group_by": "model"}).json()["data"]
    assert {row["model"] for row in by_model} == {"test/chat", "test/embed"}


def test_a_refused_request_naming_an_alias_is_metered_as_its_model(aliased, fake_gateway):
    r = aliased.post("/v1/embeddings", json={"model": CHAT_ALIAS, "input": "x"})
    assert r.status_code == 400
    assert "test/chat" in r.json()["error"]["message"]  # the wrong-modality error
    assert usage_models(fake_gateway) == [("/v1/embeddings", "test/chat")]


def test_batch_lines_naming_aliases_run_on_their_models(aliased, fake_gateway):
    hi = [{"role": "user", "content": "x"}]
    rows = [
        {"custom_id": "c", "body": {"model": CHAT_ALIAS, "messages": hi}},
        {"custom_id": "e", "url": "/v1/embeddings", "body": {"model": EMBED_ALIAS, "input": "x"}},
    ]
    upload = {"file": ("b.jsonl", jsonl(rows))}
    created = aliased.post("/v1/batch", files=upload, data={"sla": "1h"})
    assert created.status_code == 200, created.text
    assert wait_for(aliased, created.json()["id"])["status"] == "completed"
    out = {r["custom_id"]: r["response"] for r in results(aliased, created.json()["id"])}
    assert out["c"]["status_code"] == 200 and out["c"]["body"]["model"] == "test/chat"
    assert out["e"]["status_code"] == 200 and out["e"]["body"]["model"] == "test/embed"
    assert sorted(m for _, m in usage_models(fake_gateway)) == ["test/chat", "test/embed"]


def test_models_lists_each_alias_with_its_target(aliased):
    data = {m["id"]: m for m in aliased.get("/v1/models").json()["data"]}
    assert data[CHAT_ALIAS]["alias_for"] == "test/chat"
    assert data[CHAT_ALIAS]["modality"] == "chat" and data[CHAT_ALIAS]["status"] == "loaded"
    assert data[EMBED_ALIAS]["alias_for"] == "test/embed"
    assert data[EMBED_ALIAS]["modality"] == "embedding"
    assert data["test/chat"]["alias_for"] is None
    one = aliased.get(f"/v1/models/{CHAT_ALIAS}")
    assert one.status_code == 200 and one.json()["alias_for"] == "test/chat"


def test_an_alias_must_name_a_served_model_and_not_shadow_one(fake_gateway):
    aliases = fake_gateway.aliases
    with pytest.raises(InvalidRequestError, match="'nope', which is not a model this gateway"):
        aliases.set("gpt-4", "nope")
    with pytest.raises(InvalidRequestError, match="cannot replace a model"):
        aliases.set("test/embed", "test/chat")
    aliases.set("a", "test/chat")
    with pytest.raises(InvalidRequestError, match="which is an alias"):
        aliases.set("b", "a")
    with pytest.raises(InvalidRequestError, match="not a valid model id"):
        aliases.set(" spaced ", "test/chat")
    assert aliases.items() == {"a": "test/chat"}


def test_parse_aliases_takes_name_equals_model():
    assert parse_aliases(["gpt-4o=org/m", " x = y "]) == {"gpt-4o": "org/m", "x": "y"}
    assert parse_aliases({"a": "b"}) == {"a": "b"}
    with pytest.raises(InvalidRequestError, match="NAME=MODEL"):
        parse_aliases(["gpt-4o"])


def test_admin_manages_aliases_at_run_time(api, admin_headers):
    hi = {"model": "mini", "messages": [{"role": "user", "content": "hi"}]}
    assert api.post("/v1/chat/completions", json=hi).status_code == 404
    put = api.put("/v1/admin/aliases/mini", json={"model": "test/chat"}, headers=admin_headers)
    assert put.status_code == 200 and put.json() == {
        "object": "model.alias",
        "alias": "mini",
        "model": "test/chat",
    }
    assert api.post("/v1/chat/completions", json=hi).json()["model"] == "test/chat"
    listed = api.get("/v1/admin/aliases", headers=admin_headers).json()["data"]
    assert [(a["alias"], a["model"]) for a in listed] == [("mini", "test/chat")]
    bad = api.put("/v1/admin/aliases/x", json={"model": "nope"}, headers=admin_headers)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_alias_target"
    # a key that is not an admin's cannot change them
    assert api.put("/v1/admin/aliases/y", json={"model": "test/chat"}).status_code == 403
    assert api.delete("/v1/admin/aliases/mini", headers=admin_headers).status_code == 200
    assert api.delete("/v1/admin/aliases/mini", headers=admin_headers).status_code == 404
    assert api.post("/v1/chat/completions", json=hi).status_code == 404


def test_serve_refuses_an_alias_of_an_unknown_model_before_it_starts(tf_home, capsys):
    from tokenfactory.cli import main

    code = main(
        [
            "serve",
            "--new",
            "--port",
            "0",
            "--upstream",
            "remote/m=http://127.0.0.1:9/v1",
            "--alias",
            "gpt-4o=remote/nope",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "Alias 'gpt-4o' names 'remote/nope', which is not a model this gateway serves" in err
    assert "served models: remote/m" in err


def test_tf_serve_takes_aliases_and_cors_origins(tf_home):
    import httpx

    from tokenfactory.server import serve

    handle = serve(
        upstreams=["remote/m=http://127.0.0.1:9/v1"],
        aliases={"gpt-4o": "remote/m"},
        cors_origins=["http://app.example:3000"],
        new=True,
        quiet=True,
        wait=False,
    )
    try:
        headers = {"Authorization": f"Bearer {handle.api_key}", "Origin": "http://app.example:3000"}
        r = httpx.get(handle.base_url + "/models", headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == "http://app.example:3000"
        models = {m["id"]: m for m in r.json()["data"]}
        assert models["gpt-4o"]["alias_for"] == "remote/m"
    finally:
        handle.stop(drain_s=0)
