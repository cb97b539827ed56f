"""``/openapi.json`` documents every route: its success response has a schema (a model, or a
declared media type for streams and text), and its error responses point at the one error
shape (``ErrorResponse``)."""

from __future__ import annotations

ERROR_REF = "#/components/schemas/ErrorResponse"


def operations(spec: dict):
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            yield f"{method.upper()} {path}", op


def success_schema(op: dict) -> dict | None:
    ok = next((r for code, r in op["responses"].items() if code.startswith("2")), None)
    content = (ok or {}).get("content") or {}
    return next((media.get("schema") for media in content.values()), None)


def test_every_route_documents_its_response_and_its_errors(api):
    spec = api.get("/openapi.json").json()
    ops = dict(operations(spec))
    assert len(ops) > 40  # every router is included, not an empty spec
    untyped = [name for name, op in ops.items() if not success_schema(op)]
    assert untyped == [], "routes without a response schema"
    for name, op in ops.items():
        errors = {
            code: r for code, r in op["responses"].items() if code[0] in "45" and code != "422"
        }
        assert errors, f"{name} declares no error responses"
        refs = {r["content"]["application/json"]["schema"].get("$ref") for r in errors.values()}
        assert refs == {ERROR_REF}, f"{name}: {refs}"
        assert "422" not in op["responses"], f"{name}: bad input is a 400, not FastAPI's 422"


def test_json_routes_name_their_models(api):
    spec = api.get("/openapi.json").json()
    bare = [
        name
        for name, op in operations(spec)
        if "application/json"
        in next((r.get("content", {}) for c, r in op["responses"].items() if c.startswith("2")), {})
        and not _names_a_model(success_schema(op) or {})
    ]
    assert bare == [], "JSON routes whose response is an untyped object"


def _names_a_model(schema: dict) -> bool:
    if "$ref" in schema:
        return True
    return any(_names_a_model(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def test_request_bodies_are_documented(api):
    spec = api.get("/openapi.json").json()
    for name, op in operations(spec):
        method = name.split()[0]
        if method in ("POST", "PATCH") and "requestBody" in op:
            content = op["requestBody"]["content"]
            assert any(media.get("schema") for media in content.values()), name
