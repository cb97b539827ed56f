"""Upstream specs and the mapping of an upstream's refusal to our error shape (no processes)."""

from __future__ import annotations

import json

import pytest

from tokenfactory.errors import InvalidRequestError
from tokenfactory.remote.config import parse_upstreams
from tokenfactory.remote.errors import (
    NoUpstreamAvailable,
    UpstreamFailed,
    UpstreamRejected,
    error_for_status,
)


def test_same_model_twice_makes_replicas_and_v1_is_added():
    specs = parse_upstreams(["m/a=http://h1:8000", "m/a=http://h2:8000/v1/", "m/b=https://x"])
    assert [(s.model, s.url) for s in specs] == [
        ("m/a", "http://h1:8000/v1"),
        ("m/a", "http://h2:8000/v1"),
        ("m/b", "https://x/v1"),
    ]
    mapping = parse_upstreams({"m/a": ["http://h1:8000", "http://h2:8000"]}, api_key="k")
    assert [s.api_key for s in mapping] == ["k", "k"]


def test_a_config_file_gives_per_upstream_keys_names_and_caps(tmp_path):
    path = tmp_path / "up.toml"
    path.write_text(
        '[[upstream]]\nmodel = "m/a"\nurl = "http://h1:8000"\napi_key = "one"\n'
        'served_model = "a"\nmax_concurrency = 3\n'
        '[[upstream]]\nmodel = "m/c"\nurl = "http://h3:8000/v1"\nmodality = "embedding"\n'
    )
    specs = parse_upstreams(["m/a=http://h1:8000"], api_key="shared", config_file=path)
    assert [(s.model, s.api_key, s.upstream_model, s.max_concurrency) for s in specs] == [
        ("m/a", "one", "a", 3),
        ("m/c", "shared", "m/c", 64),
    ]
    assert [s.modality for s in specs] == [None, "embedding"]
    as_json = tmp_path / "up.json"
    as_json.write_text(json.dumps({"upstream": [{"model": "m/j", "url": "http://j"}]}))
    assert parse_upstreams(config_file=as_json)[0].url == "http://j/v1"


@pytest.mark.parametrize("bad", ["no-equals", "=http://h", "m/a=", "m/a=ftp://h"])
def test_bad_specs_say_what_is_wrong(bad):
    with pytest.raises(InvalidRequestError):
        parse_upstreams([bad])


def test_upstream_errors_keep_the_message_in_our_shape():
    vllm_400 = json.dumps(
        {"object": "error", "message": "max_tokens is too large", "type": "BadRequestError",
         "code": 400}
    ).encode()  # fmt: skip
    err = error_for_status(400, vllm_400, "http://h/v1")
    assert isinstance(err, UpstreamRejected) and err.status_code == 400
    assert err.to_dict()["error"]["message"] == "max_tokens is too large"
    ours = json.dumps({"error": {"message": "nope", "type": "x", "code": "model_not_found"}})
    not_found = error_for_status(404, ours.encode(), "u")
    assert (not_found.status_code, not_found.code) == (404, "model_not_found")
    fastapi_422 = json.dumps({"detail": [{"loc": ["body"], "msg": "field required"}]}).encode()
    assert error_for_status(422, fastapi_422, "u").status_code == 400  # the API has no 422
    assert isinstance(error_for_status(401, b"bad key", "u"), UpstreamFailed)  # our key: 502
    assert error_for_status(401, b"bad key", "u").status_code == 502
    assert isinstance(error_for_status(503, b"", "u"), NoUpstreamAvailable)
    assert error_for_status(500, b"<html>boom</html>", "u").status_code == 502


def test_upstream_errors_are_the_apis_own_error_types():
    from tokenfactory.errors import ModelNotFoundError, RateLimitExceededError

    not_found = error_for_status(404, b'{"error": {"message": "no such model"}}', "u")
    assert isinstance(not_found, ModelNotFoundError) and isinstance(not_found, UpstreamRejected)
    limited = error_for_status(429, b'{"message": "slow down"}', "u")
    assert isinstance(limited, RateLimitExceededError) and limited.status_code == 429
    assert (limited.type, limited.code) == ("rate_limit_exceeded", "upstream_rate_limited")
    assert error_for_status(413, b"too big", "u").code == "request_too_large"
    # a route the upstream does not have (vLLM without embeddings or runtime LoRA) is a 400
    # that says which path, not a "model not found"
    for status, detail in ((404, "Not Found"), (405, "Method Not Allowed")):
        body = json.dumps({"detail": detail}).encode()
        err = error_for_status(status, body, "http://h/v1", "/embeddings")
        assert (err.status_code, err.code) == (400, "model_not_supported")
        assert "http://h/v1" in err.message and "/embeddings" in err.message
    assert error_for_status(501, b"", "u", "/embeddings").status_code == 400
