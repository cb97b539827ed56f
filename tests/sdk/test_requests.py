"""What goes on the wire: URL, auth, user-agent, per-call extras, bodies, uploads."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

import tokenfactory
from tests.sdk.conftest import API_KEY, Recorder, chat_completion, reply
from tokenfactory.sdk import TokenFactory
from tokenfactory.sdk._resource import SyncAPIResource
from tokenfactory.wire import ResponseMessage

MESSAGES = [{"role": "user", "content": "hi"}]


def test_default_headers(make_client):
    handler = Recorder(reply(200, chat_completion()))
    make_client(handler).chat.completions.create(model="m", messages=MESSAGES)
    request = handler.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "http://gateway.test/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["user-agent"] == f"tokenfactory-python/{tokenfactory.__version__}"
    assert request.headers["content-type"] == "application/json"


def test_no_key_sends_no_authorization(make_client, monkeypatch):
    monkeypatch.delenv("TOKENFACTORY_API_KEY", raising=False)
    handler = Recorder(reply(200, chat_completion()))
    make_client(handler, api_key=None).chat.completions.create(model="m", messages=MESSAGES)
    assert "authorization" not in handler.requests[0].headers


def test_extra_headers_query_body_and_defaults(make_client):
    handler = Recorder(reply(200, chat_completion()))
    client = make_client(
        handler, default_headers={"X-Team": "nlp"}, default_query={"workspace": "w1"}
    )
    client.chat.completions.create(
        model="m",
        messages=MESSAGES,
        temperature=0.2,
        top_p=None,
        extra_headers={"X-Trace": "abc", "User-Agent": "mine/1"},
        extra_query={"debug": "1"},
        extra_body={"priority": "low", "temperature": 0.0},
    )
    request = handler.requests[0]
    assert request.headers["x-team"] == "nlp"
    assert request.headers["x-trace"] == "abc"
    assert request.headers["user-agent"] == "mine/1"
    assert dict(request.url.params) == {"workspace": "w1", "debug": "1"}
    body = handler.body()
    assert body == {"model": "m", "messages": MESSAGES, "temperature": 0.0, "priority": "low"}
    assert not {"extra_headers", "extra_query", "extra_body", "top_p"} & set(body)


def test_pydantic_messages_are_serialised(make_client):
    handler = Recorder(reply(200, chat_completion()))
    previous = ResponseMessage(content="Earlier answer")
    make_client(handler).chat.completions.create(
        model="m", messages=[*MESSAGES, previous, {"role": "user", "content": "and?"}]
    )
    assert handler.body()["messages"][1] == {"role": "assistant", "content": "Earlier answer"}


def test_base_url_with_trailing_slash(clock):
    handler = Recorder(reply(200, {"object": "list", "data": []}))
    import httpx

    client = TokenFactory(
        base_url="http://host:9/v1/",
        api_key="k",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    client.models.list()
    assert str(handler.requests[0].url) == "http://host:9/v1/models"


class Upload(BaseModel):
    ok: bool


class Uploads(SyncAPIResource):
    def create(self, file, **params):
        return self._post("/uploads", body=params, files={"file": file}, cast_to=Upload)


@pytest.mark.parametrize("kind", ["path", "bytes", "fileobj", "tuple"])
def test_multipart_upload_is_resent_on_retry(make_client, tmp_path, kind):
    path = tmp_path / "batch.jsonl"
    path.write_bytes(b'{"custom_id": "1"}\n')
    file = {
        "path": path,
        "bytes": path.read_bytes(),
        "fileobj": path.open("rb"),
        "tuple": ("batch.jsonl", path.read_bytes(), "application/jsonl"),
    }[kind]
    handler = Recorder(reply(503, {"error": {"message": "x", "type": "y"}}), reply(200, {"ok": 1}))
    result = Uploads(make_client(handler)).create(file, sla="24h", dry_run=True)
    assert result.ok is True
    assert handler.calls == 2
    for request in handler.requests:
        content = request.read()
        assert request.headers["content-type"].startswith("multipart/form-data")
        assert b'{"custom_id": "1"}\n' in content
        assert b'name="sla"\r\n\r\n24h' in content
        assert b'name="dry_run"\r\n\r\ntrue' in content
        if kind != "bytes":
            assert b'filename="batch.jsonl"' in content


def test_get_and_delete_helpers(make_client):
    handler = Recorder(reply(200, {"id": "x", "deleted": True}))
    client = make_client(handler)
    resource = SyncAPIResource(client)
    assert resource._get("/things", cast_to=dict, params={"limit": 5, "after": None}) == {
        "id": "x",
        "deleted": True,
    }
    resource._delete("/things/x", cast_to=dict, options={"extra_headers": {"X-A": "1"}})
    first, second = handler.requests
    assert (first.method, dict(first.url.params)) == ("GET", {"limit": "5"})
    assert (second.method, second.url.path, second.headers["x-a"]) == (
        "DELETE",
        "/v1/things/x",
        "1",
    )


def test_unknown_resource_is_an_attribute_error(make_client):
    client = make_client(Recorder(reply(200, {})))
    with pytest.raises(AttributeError):
        client.nothing_here  # noqa: B018
    assert {"chat", "completions", "embeddings", "models"} <= set(dir(client))


def test_with_options_copies_settings_and_shares_the_pool(make_client):
    handler = Recorder(reply(500, {"error": {"message": "x", "type": "server_error"}}))
    client = make_client(handler, default_headers={"X-Team": "nlp"}, max_retries=2)
    quick = client.with_options(max_retries=0, timeout=3.0, default_headers={"X-Run": "7"})
    with pytest.raises(tokenfactory.InternalServerError):
        quick.models.list()
    assert handler.calls == 1
    request = handler.requests[0]
    assert (request.headers["x-team"], request.headers["x-run"]) == ("nlp", "7")
    assert request.extensions["timeout"]["read"] == 3.0
    assert quick.models._client is quick and client.models._client is client
    assert quick._http is client._http
    quick.close()  # the copy does not close the shared pool
    with pytest.raises(tokenfactory.InternalServerError):
        client.models.list()
    assert handler.calls == 1 + 3
    assert "x-run" not in handler.requests[-1].headers
