"""CORS (``--cors-origin``) on the fake engine: preflights, streams and every kind of error
answer carry the headers for an allowed origin, never for another; none by default.
(tests/browser/test_cors_browser.py checks what a real browser makes of it.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tokenfactory.errors import InvalidRequestError
from tokenfactory.gateway.app import create_app
from tokenfactory.gateway.cors import check_origins
from tokenfactory.gateway.limits import RequestLimits

ALLOWED, OTHER = "http://app.example:3000", "http://evil.example"
CHAT = "/v1/chat/completions"
HI = {"model": "test/chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


def client_for(gateway, origins: list[str] | None, **kwargs) -> Iterator[TestClient]:
    app = create_app(gateway, cors_origins=origins, **kwargs)
    auth = {"Authorization": f"Bearer {gateway.test_key}"}
    with TestClient(app, headers=auth, raise_server_exceptions=False) as client:
        client.portal.call(gateway.start_engine)
        yield client


@pytest.fixture
def cors(fake_gateway) -> Iterator[TestClient]:
    limits = RequestLimits(caps={"*": 4096})
    yield from client_for(fake_gateway, [ALLOWED, "https://Other.Example/"], limits=limits)


def preflight(client: TestClient, origin: str, path: str = CHAT):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_a_preflight_from_an_allowed_origin_allows_the_call(cors):
    r = preflight(cors, ALLOWED)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in r.headers["access-control-allow-methods"]
    allowed_headers = r.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert int(r.headers["access-control-max-age"]) > 0
    # origins are matched as a browser sends them (the flag's case and slash do not matter)
    second = preflight(cors, "https://other.example")
    assert second.headers["access-control-allow-origin"] == "https://other.example"


def test_a_preflight_from_another_origin_is_refused(cors):
    r = preflight(cors, OTHER)
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers


def test_answers_streams_and_errors_carry_the_headers_for_an_allowed_origin(
    cors, fake_engine, monkeypatch
):
    origin = {"Origin": ALLOWED}
    ok = cors.post(CHAT, json=HI, headers=origin)
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ALLOWED
    exposed = ok.headers["access-control-expose-headers"].lower()
    assert "x-request-id" in exposed and "x-ratelimit-remaining" in exposed
    with cors.stream("POST", CHAT, json={**HI, "stream": True}, headers=origin) as streamed:
        assert streamed.headers["access-control-allow-origin"] == ALLOWED
        assert "data: [DONE]" in streamed.read().decode()
    for response in (
        cors.post(CHAT, json=HI, headers={**origin, "Authorization": "Bearer tf-wrong"}),  # 401
        cors.post(CHAT, json={**HI, "model": "nope"}, headers=origin),  # 404
        cors.post(CHAT, json={**HI, "pad": "x" * 5000}, headers=origin),  # 413, body guard
    ):
        assert response.status_code in (401, 404, 413), response.text
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert "error" in response.json()

    async def broken(request):
        raise RuntimeError("the engine broke")
        yield

    monkeypatch.setattr(fake_engine, "generate", broken)
    failed = cors.post(CHAT, json=HI, headers=origin)
    assert failed.status_code == 500 and failed.json()["error"]["type"] == "server_error"
    assert failed.headers["access-control-allow-origin"] == ALLOWED


def test_another_origin_gets_no_cors_headers(cors):
    r = cors.post(CHAT, json=HI, headers={"Origin": OTHER})
    assert r.status_code == 200  # the browser, not the server, withholds it from the page
    assert "access-control-allow-origin" not in r.headers


def test_no_origin_is_allowed_by_default(fake_gateway):
    for client in client_for(fake_gateway, None):
        r = client.post(CHAT, json=HI, headers={"Origin": ALLOWED})
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
        assert preflight(client, ALLOWED).status_code == 405


def test_any_origin_with_a_star(fake_gateway):
    for client in client_for(fake_gateway, ["*"]):
        r = client.post(CHAT, json=HI, headers={"Origin": OTHER})
        assert r.headers["access-control-allow-origin"] == "*"


def test_check_origins_takes_origins_only():
    given = ["HTTP://LocalHost:3000/", "http://localhost:3000", "*"]
    assert check_origins(given) == ["http://localhost:3000", "*"]
    for bad in ("localhost:3000", "http://x.example/app", "ftp://x.example", "http://"):
        with pytest.raises(InvalidRequestError, match="is not an origin"):
            check_origins([bad])


def test_serve_refuses_a_bad_origin_before_it_starts(tf_home, capsys):
    from tokenfactory.cli import main

    code = main(["serve", "--new", "--port", "0", "--cors-origin", "localhost:3000"])
    assert code == 1
    assert "CORS origin 'localhost:3000' is not an origin" in capsys.readouterr().err
