"""/v1/files complete in OpenAI's terms (paging, delete, 409 while in use, Allow on 405), and a
batch job's usage recorded under the key that submitted it."""

from __future__ import annotations

import json
import time

from tokenfactory.batch.service import BatchService

MODEL = "test/chat"


def jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def chat_rows(n: int) -> list[dict]:
    return [
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": MODEL, "messages": [{"role": "user", "content": f"hi {i}"}]},
        }
        for i in range(n)
    ]


def upload(api, name: str, rows: list[dict], headers: dict | None = None) -> dict:
    r = api.post(
        "/v1/files",
        files={"file": (name, jsonl(rows))},
        data={"purpose": "batch"},
        headers=headers or {},
    )
    assert r.status_code == 200, r.text
    return r.json()


def wait_done(api, batch_id: str, headers: dict | None = None) -> dict:
    deadline = time.monotonic() + 20
    while True:
        job = api.get(f"/v1/batches/{batch_id}", headers=headers or {}).json()
        if job["status"] in ("completed", "failed", "cancelled", "expired"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_files_list_pages_with_limit_after_and_order(api):
    ids = [upload(api, f"f{i}.jsonl", chat_rows(1))["id"] for i in range(5)]
    first = api.get("/v1/files", params={"limit": 2}).json()
    assert [f["id"] for f in first["data"]] == [ids[4], ids[3]]
    assert first["has_more"] and first["first_id"] == ids[4] and first["last_id"] == ids[3]
    second = api.get("/v1/files", params={"limit": 2, "after": first["last_id"]}).json()
    assert [f["id"] for f in second["data"]] == [ids[2], ids[1]] and second["has_more"]
    last = api.get("/v1/files", params={"limit": 2, "after": second["last_id"]}).json()
    assert [f["id"] for f in last["data"]] == [ids[0]] and not last["has_more"]
    oldest = api.get("/v1/files", params={"limit": 3, "order": "asc"}).json()
    assert [f["id"] for f in oldest["data"]] == ids[:3] and oldest["has_more"]
    assert api.get("/v1/files", params={"purpose": "batch_output"}).json()["data"] == []
    assert api.get("/v1/files", params={"limit": 0}).status_code == 400
    assert api.get("/v1/files", params={"order": "sideways"}).status_code == 400
    missing = api.get("/v1/files", params={"after": "file-nope"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "file_not_found"


def test_delete_file_removes_it_and_its_content(api):
    f = upload(api, "gone.jsonl", chat_rows(2))
    r = api.delete(f"/v1/files/{f['id']}")
    assert r.status_code == 200, r.text
    assert r.json() == {"id": f["id"], "object": "file", "deleted": True}
    assert api.get(f"/v1/files/{f['id']}").status_code == 404
    assert api.get(f"/v1/files/{f['id']}/content").status_code == 404
    again = api.delete(f"/v1/files/{f['id']}")
    assert again.status_code == 404 and again.json()["error"]["code"] == "file_not_found"


def test_delete_is_refused_while_a_running_batch_reads_the_file(api, fake_engine, fake_gateway):
    fake_engine.delay = 0.02
    fake_gateway.installed[BatchService].runner.max_in_flight = 1
    f = upload(api, "busy.jsonl", chat_rows(30))
    batch = api.post(
        "/v1/batches",
        json={
            "input_file_id": f["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
    ).json()
    refused = api.delete(f"/v1/files/{f['id']}")
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["type"] == "conflict" and batch["id"] in error["message"]
    api.post(f"/v1/batches/{batch['id']}/cancel")
    assert wait_done(api, batch["id"])["status"] == "cancelled"
    assert api.delete(f"/v1/files/{f['id']}").status_code == 200


def test_other_workspaces_cannot_see_or_delete_a_file(api, fake_gateway):
    f = upload(api, "mine.jsonl", chat_rows(1))
    _, other = fake_gateway.keys.create_key("team-b")
    theirs = {"Authorization": f"Bearer {other}"}
    assert api.get("/v1/files", headers=theirs).json()["data"] == []
    assert api.delete(f"/v1/files/{f['id']}", headers=theirs).status_code == 404
    assert api.get(f"/v1/files/{f['id']}").status_code == 200


def test_every_405_names_the_allowed_methods(api):
    r = api.put("/v1/files/file-x")
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "DELETE"}
    assert r.json()["error"]["code"] == "method_not_allowed"
    r = api.get("/v1/chat/completions")
    assert r.status_code == 405 and r.headers["allow"] == "POST"


def test_openai_client_deletes_and_pages_files(api, fake_gateway):
    from openai import OpenAI

    client = OpenAI(base_url="http://testserver/v1", api_key=fake_gateway.test_key, http_client=api)
    made = [
        client.files.create(file=(f"{i}.jsonl", jsonl(chat_rows(1))), purpose="batch")
        for i in range(3)
    ]
    page = client.files.list(limit=2)
    assert [f.id for f in page.data] == [made[2].id, made[1].id] and page.has_more
    assert [f.id for f in page.get_next_page().data] == [made[0].id]
    assert client.files.delete(made[0].id).deleted
    assert [f.id for f in client.files.list()] == [made[2].id, made[1].id]


def test_batch_usage_is_recorded_under_the_key_that_submitted_it(api, fake_gateway):
    seen = []
    fake_gateway.usage_observers.append(seen.append)
    key_ids = {}
    for name in ("first", "second"):
        key_id, key = fake_gateway.keys.create_key("default", name=name)
        key_ids[name] = key_id
        headers = {"Authorization": f"Bearer {key}"}
        f = upload(api, f"{name}.jsonl", chat_rows(2), headers)
        batch = api.post(
            "/v1/batches",
            json={
                "input_file_id": f["id"],
                "endpoint": "/v1/chat/completions",
                "completion_window": "24h",
            },
            headers=headers,
        ).json()
        assert wait_done(api, batch["id"], headers)["status"] == "completed"
    by_key = [record.principal.key_id for record in seen]
    assert by_key == [key_ids["first"]] * 2 + [key_ids["second"]] * 2
