"""/v1/adapters on the fake engine: parameters, data validation, workspaces, import, delete."""

from __future__ import annotations

import json

import pytest

from tokenfactory.lora.dataset import parse_jsonl


def example(i: int) -> dict:
    return {
        "messages": [
            {"role": "user", "content": f"question {i}"},
            {"role": "assistant", "content": f"answer {i}"},
        ]
    }


def jsonl(rows: list) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


GOOD = jsonl([example(i) for i in range(12)])


def create(api, **body):
    return api.post("/v1/adapters", json={"name": "style-v1", **body})


def upload(api, name: str, text: str, kind: str = "training_data"):
    return api.post(
        f"/v1/adapters/{name}/{kind}",
        files={"file": ("train.jsonl", text.encode(), "application/jsonl")},
    )


def test_create_fills_defaults_and_names_the_model(api):
    response = create(api, display_name="Style")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "adapter" and body["name"] == body["model"] == "style-v1"
    assert body["base_model"] == "test/chat" and body["parent"] == "test/chat"
    assert body["status"] == "created"
    assert body["hyperparameters"] == {
        "epochs": 3,
        "learning_rate": 0.0002,
        "rank": 16,
        "alpha": 32.0,
        "dropout": 0.05,
        "batch_size": 4,
        "max_tokens": 1024,
        "seed": 0,
    }
    assert api.get("/v1/adapters/style-v1").json()["id"] == body["id"]
    assert [a["name"] for a in api.get("/v1/adapters").json()["data"]] == ["style-v1"]


def test_alpha_defaults_to_twice_the_rank_and_the_seed_alias_works(api):
    response = api.post("/api/dashboard/token-factory/lora", json={"name": "a8", "rank": 8})
    assert response.status_code == 200, response.text
    assert response.json()["hyperparameters"]["alpha"] == 16


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("epochs", 0),
        ("epochs", 11),
        ("epochs", 2.5),
        ("learning_rate", 0.00005),
        ("learning_rate", 0.002),
        ("rank", 12),
        ("rank", "16"),
        ("dropout", 0.9),
        ("alpha", -1),
        ("base_model", "no/such-model"),
        ("name", "has space"),
        ("name", "a/b"),
    ],
)
def test_out_of_range_parameters_are_400_naming_the_field(api, field, value):
    body = {"name": "x1", field: value}
    response = api.post("/v1/adapters", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request"
    assert error["param"] == field
    assert field in error["message"]


def test_names_are_unique_per_workspace(api):
    assert create(api).status_code == 200
    again = create(api)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "adapter_exists"


def test_training_data_problems_are_listed_by_line(api):
    create(api)
    rows = [example(i) for i in range(12)]
    rows[1] = "{not json"
    rows[4] = {
        "messages": [{"role": "bot", "content": "hi"}, {"role": "assistant", "content": "x"}]
    }
    rows[6] = {"messages": [{"role": "user", "content": "only a question"}]}
    rows[8] = {"messages": [{"role": "user", "content": 3}, {"role": "assistant", "content": "x"}]}
    response = upload(api, "style-v1", jsonl(rows))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_training_data"
    assert [p["line"] for p in error["lines"]] == [2, 5, 7, 9]
    assert "line 2: not valid JSON" in error["message"]
    assert "'bot' is not one of" in error["message"]
    assert "line 7: no assistant turn" in error["message"]
    assert "messages[0].content must be a string" in error["message"]
    assert api.get("/v1/adapters/style-v1").json()["training_examples"] == 0


def test_too_few_examples(api):
    create(api)
    response = upload(api, "style-v1", jsonl([example(i) for i in range(9)]))
    assert response.status_code == 400
    assert "9 example(s); at least 10 are needed" in response.json()["error"]["message"]


def test_upload_counts_examples_and_accepts_a_raw_body(api):
    create(api)
    ok = upload(api, "style-v1", GOOD)
    assert ok.status_code == 200, ok.text
    assert ok.json()["training_examples"] == 12
    raw = api.post(
        "/v1/adapters/style-v1/validation_data",
        content=jsonl([example(1), example(2)]).encode(),
        headers={"Content-Type": "application/jsonl"},
    )
    assert raw.status_code == 200, raw.text
    assert raw.json()["validation_examples"] == 2


def test_train_needs_data_first(api):
    create(api)
    response = api.post("/v1/adapters/style-v1/train")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_training_data"
    assert api.get("/v1/adapters/style-v1").json()["status"] == "created"


def test_unknown_adapter_is_404(api):
    for response in (
        api.get("/v1/adapters/nope"),
        api.post("/v1/adapters/nope/train"),
        api.delete("/v1/adapters/nope"),
        api.get("/v1/adapters/nope/events"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found"


def fake_peft_folder(tmp_path, base="test/chat"):
    folder = tmp_path / "peft-adapter"
    folder.mkdir()
    config = {"peft_type": "LORA", "r": 8, "lora_alpha": 16, "base_model_name_or_path": base}
    (folder / "adapter_config.json").write_text(json.dumps(config))
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    return folder


def import_folder(api, admin_headers, name: str, folder, **extra):
    body = {"name": name, "path": str(folder), **extra}
    return api.post("/v1/adapters/import", json=body, headers=admin_headers)


def test_import_serves_an_existing_adapter_by_name(api, fake_gateway, admin_headers, tmp_path):
    folder = fake_peft_folder(tmp_path)
    response = import_folder(api, admin_headers, "brought", folder)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "succeeded" and body["loaded"] and body["source"] == "imported"
    assert body["hyperparameters"]["rank"] == 8
    assert fake_gateway.engine.adapters() == {body["id"]: "test/chat"}
    models = {m["id"]: m for m in api.get("/v1/models").json()["data"]}
    assert models["brought"]["parent"] == "test/chat"
    assert "brought" in models["test/chat"]["adapters"]
    chat = api.post(
        "/v1/chat/completions",
        json={"model": "brought", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert chat.status_code == 200, chat.text
    assert chat.json()["model"] == "brought"
    assert fake_gateway.engine.requests[-1].adapter == body["id"]
    assert fake_gateway.engine.requests[-1].model == "test/chat"


def test_import_rejects_a_folder_without_an_adapter(api, admin_headers, tmp_path):
    response = import_folder(api, admin_headers, "x", tmp_path)
    assert response.status_code == 400
    assert "adapter_config.json" in response.json()["error"]["message"]


def test_adapters_are_invisible_to_another_workspace(api, fake_gateway, admin_headers, tmp_path):
    folder = fake_peft_folder(tmp_path)
    created = import_folder(api, admin_headers, "mine", folder).json()
    _, other_key = fake_gateway.keys.create_key("other-team", name="other")
    other = {"Authorization": f"Bearer {other_key}"}
    assert api.get("/v1/adapters/mine", headers=other).status_code == 404
    assert api.get("/v1/adapters", headers=other).json()["data"] == []
    ids = [m["id"] for m in api.get("/v1/models", headers=other).json()["data"]]
    assert "mine" not in ids and created["id"] not in ids
    for model in ("mine", created["id"]):
        response = api.post(
            "/v1/chat/completions",
            json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
            headers=other,
        )
        assert response.status_code == 404, response.text
    assert api.delete("/v1/adapters/mine", headers=other).status_code == 404
    # the other workspace may use the same name for its own adapter
    folder2 = tmp_path / "second"
    folder2.mkdir()
    for f in folder.iterdir():
        (folder2 / f.name).write_bytes(f.read_bytes())
    theirs = import_folder(api, admin_headers, "mine", folder2, workspace="other-team")
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["id"] != created["id"]
    assert api.get("/v1/adapters/mine", headers=other).json()["id"] == theirs.json()["id"]


def test_delete_unloads_and_forgets(api, fake_gateway, admin_headers, tmp_path):
    folder = fake_peft_folder(tmp_path)
    import_folder(api, admin_headers, "gone", folder)
    response = api.delete("/v1/models/gone")
    assert response.status_code == 200, response.text
    assert response.json()["deleted"] is True
    assert fake_gateway.engine.adapters() == {}
    assert api.get("/v1/adapters/gone").status_code == 404
    base = api.delete("/v1/models/test/chat")
    assert base.status_code == 404


def test_an_untrained_adapter_is_not_ready_to_serve(api):
    create(api)
    response = api.post(
        "/v1/chat/completions",
        json={"model": "style-v1", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "adapter_not_ready"


def test_parse_jsonl_skips_blank_lines_and_keeps_line_numbers():
    text = "\n" + GOOD + "\n\n"
    assert len(parse_jsonl(text)) == 12
    bad = "\n\n" + jsonl(["[1, 2]"] + [example(i) for i in range(10)])
    with pytest.raises(Exception) as info:
        parse_jsonl(bad)
    assert info.value.problems[0][0] == 3


def test_a_restarted_gateway_serves_the_adapters_it_had(api, fake_gateway, admin_headers, tmp_path):
    from tests.fakes import FakeEngine
    from tokenfactory.core import Core
    from tokenfactory.features import install_features

    folder = fake_peft_folder(tmp_path)
    created = import_folder(api, admin_headers, "kept", folder).json()
    restarted = Core(FakeEngine(), fake_gateway.store)
    install_features(restarted)
    api.portal.call(restarted.start_engine)
    assert restarted.engine.adapters() == {created["id"]: "test/chat"}
    principal = restarted.keys.authenticate(fake_gateway.test_key)
    target = restarted.resolve_model("kept", "chat", principal)
    assert (target.model, target.adapter) == ("test/chat", created["id"])


def test_a_rank_the_engine_cannot_serve_is_refused_before_training(api, fake_gateway):
    """vLLM on the CPU reserves rank 16: a rank-32 adapter could be trained but not served."""
    fake_gateway.engine.max_lora_rank = 16
    try:
        refused = create(api, rank=32)
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert error["param"] == "rank" and error["code"] == "rank_not_served"
        assert "max_lora_rank=32" in error["message"]
        assert create(api, rank=16).status_code == 200
    finally:
        del fake_gateway.engine.max_lora_rank


def test_adapters_follow_their_base_model_through_unload_and_load(
    api, fake_gateway, tmp_path, admin_headers
):
    """Unload of the base takes its adapters away everywhere; load puts them back."""
    folder = fake_peft_folder(tmp_path)
    created = import_folder(api, admin_headers, "follows", folder)
    adapter_id = created.json()["id"]

    def listed() -> tuple[bool, bool, bool]:
        models = {m["id"]: m for m in api.get("/v1/models").json()["data"]}
        loaded = api.get("/v1/adapters/follows").json()["loaded"]
        return "follows" in models, "follows" in models["test/chat"]["adapters"], loaded

    unloaded = api.post("/v1/models/unload", json={"model": "test/chat"}, headers=admin_headers)
    assert unloaded.status_code == 200, unloaded.text
    assert fake_gateway.engine.adapters() == {}
    assert listed() == (False, False, False)
    chat = {"model": "follows", "messages": [{"role": "user", "content": "hi"}]}
    refused = api.post("/v1/chat/completions", json=chat)
    assert refused.status_code == 503
    assert "POST /v1/models/load" in refused.json()["error"]["message"]

    loaded = api.post("/v1/models/load", json={"model": "test/chat"}, headers=admin_headers)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["adapters"] == ["follows"]
    assert fake_gateway.engine.adapters() == {adapter_id: "test/chat"}
    assert listed() == (True, True, True)
    assert api.post("/v1/chat/completions", json=chat).status_code == 200


def test_loading_an_adapter_loads_its_base_model_first(api, fake_gateway, tmp_path, admin_headers):
    folder = fake_peft_folder(tmp_path)
    import_folder(api, admin_headers, "pulls", folder)
    api.post("/v1/models/unload", json={"model": "test/chat"}, headers=admin_headers)
    response = api.post("/v1/models/load", json={"model": "pulls"}, headers=admin_headers)
    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["parent"]) == ("pulls", "test/chat")
    assert "test/chat" not in fake_gateway.engine.unloaded
    assert api.get("/v1/adapters/pulls").json()["loaded"] is True
    # and an adapter alone can be unloaded, then loaded again
    off = api.post("/v1/models/unload", json={"model": "pulls"}, headers=admin_headers)
    assert off.status_code == 200 and off.json()["status"] == "unloaded"
    assert api.get("/v1/adapters/pulls").json()["loaded"] is False
    on = api.post("/v1/models/load", json={"model": "pulls"}, headers=admin_headers)
    assert on.status_code == 200 and api.get("/v1/adapters/pulls").json()["loaded"] is True
