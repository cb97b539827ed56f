"""Webhooks: Standard Webhooks signatures (checked with the `standardwebhooks` package), job
events delivered to a real HTTP receiver, retries with back-off, a delivery log, admin-only
registration, and a queue that survives a killed gateway."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from standardwebhooks import Webhook

import tokenfactory as tf
from tokenfactory.webhooks.delivery import next_delay
from tokenfactory.webhooks.service import WebhookService
from tokenfactory.webhooks.signing import new_secret, signed_headers

MODEL = "test/chat"


def admin_headers(fake_gateway) -> dict[str, str]:
    key = fake_gateway.keys.create_key("default", name="root", is_admin=True)[1]
    return {"Authorization": f"Bearer {key}"}


def test_signatures_interoperate_with_the_standard_webhooks_package():
    secret = new_secret()
    body = json.dumps({"id": "evt_1", "type": "batch.completed", "data": {"id": "batch_1"}})
    headers = signed_headers(secret, "evt_1", body)
    assert Webhook(secret).verify(body, headers)["id"] == "evt_1"
    theirs = Webhook(secret)
    now = time.time()
    from datetime import datetime, timezone

    signature = theirs.sign("msg_2", datetime.fromtimestamp(now, tz=timezone.utc), body)
    tf.webhooks.verify(
        body,
        {"webhook-id": "msg_2", "webhook-timestamp": str(int(now)), "webhook-signature": signature},
        secret,
    )


def test_verify_refuses_a_tampered_body_another_secret_and_a_stale_timestamp():
    secret = new_secret()
    body = '{"id":"evt_1"}'
    headers = signed_headers(secret, "evt_1", body)
    with pytest.raises(tf.webhooks.WebhookVerificationError):
        tf.webhooks.verify(body.replace("1", "2"), headers, secret)
    with pytest.raises(tf.webhooks.WebhookVerificationError):
        tf.webhooks.verify(body, headers, new_secret())
    stale = signed_headers(secret, "evt_1", body, now=time.time() - 3600)
    with pytest.raises(tf.webhooks.WebhookVerificationError):
        tf.webhooks.verify(body, stale, secret)
    with pytest.raises(tf.webhooks.WebhookVerificationError):
        tf.webhooks.verify(body, {}, secret)


def test_backoff_grows_exponentially_then_levels_off():
    delays = [next_delay(n) for n in range(1, 9)]
    assert delays[:3] == [5, 300, 1800]
    assert all(a <= b for a, b in itertools.pairwise(delays))
    assert delays[-1] == delays[-2] == 10 * 3600


def test_registering_needs_an_admin_key_and_a_valid_url_and_events(api, fake_gateway):
    assert (
        api.post("/v1/admin/workspaces/default/webhooks", json={"url": "http://x"}).status_code
        == 403
    )
    admin = admin_headers(fake_gateway)
    bad_url = api.post(
        "/v1/admin/workspaces/default/webhooks", json={"url": "ftp://x"}, headers=admin
    )
    assert bad_url.status_code == 400 and bad_url.json()["error"]["param"] == "url"
    bad_event = api.post(
        "/v1/admin/workspaces/default/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["batch.exploded"]},
        headers=admin,
    )
    assert bad_event.status_code == 400 and "batch.exploded" in bad_event.json()["error"]["message"]
    missing = api.get("/v1/admin/webhooks/whep_nope/deliveries", headers=admin)
    assert missing.status_code == 404


def test_a_finished_batch_is_delivered_signed_in_openais_event_shape(api, fake_gateway):
    admin = admin_headers(fake_gateway)
    with tf.webhooks.Receiver() as rx:
        endpoint = api.post(
            "/v1/admin/workspaces/default/webhooks",
            json={"url": rx.url, "events": ["batch.completed", "batch.cancelled"]},
            headers=admin,
        ).json()
        assert endpoint["secret"].startswith("whsec_") and endpoint["events"] == [
            "batch.completed",
            "batch.cancelled",
        ]
        rx.secret = endpoint["secret"]
        rows = [
            {
                "custom_id": "a",
                "body": {"model": MODEL, "messages": [{"role": "user", "content": "x"}]},
            }
        ]
        data = "".join(json.dumps(r) + "\n" for r in rows).encode()
        batch = api.post("/v1/batch", files={"file": ("b.jsonl", data)}, data={"sla": "1h"}).json()
        event = rx.wait_for("batch.completed", timeout=30)
        assert event["object"] == "event" and event["data"] == {"id": batch["id"]}
        assert event["id"].startswith("evt_") and isinstance(event["created_at"], int)
        assert rx.rejected == 0
        # the receiver has the event before the dispatcher has read its answer and logged it
        deadline = time.monotonic() + 10
        while True:
            log = api.get(f"/v1/admin/webhooks/{endpoint['id']}/deliveries", headers=admin)
            statuses = [d["status"] for d in log.json()["data"]]
            if statuses != ["pending"] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert statuses == ["delivered"]
        assert log.json()["data"][0]["event_id"] == event["id"]
        listed = api.get("/v1/admin/workspaces/default/webhooks", headers=admin).json()["data"]
        assert [e["id"] for e in listed] == [endpoint["id"]]


def test_a_failed_delivery_is_retried_with_the_same_event_id(api, fake_gateway, monkeypatch):
    fake_gateway.installed[WebhookService].dispatcher.scale = 0.01  # 5 s -> 0.05 s
    admin = admin_headers(fake_gateway)
    with tf.webhooks.Receiver() as rx:  # no secret yet: it answers 503
        endpoint = api.post(
            "/v1/admin/workspaces/default/webhooks", json={"url": rx.url}, headers=admin
        ).json()
        sent = api.post(f"/v1/admin/webhooks/{endpoint['id']}/test", headers=admin).json()
        deadline = time.monotonic() + 20
        while True:
            log = api.get(f"/v1/admin/webhooks/{endpoint['id']}/deliveries", headers=admin).json()
            if log["data"] and log["data"][0]["attempts"] >= 1:
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        first = log["data"][0]
        assert first["status"] == "pending" and first["attempt_log"][0]["status_code"] == 503
        rx.secret = endpoint["secret"]
        event = rx.wait_for("webhook.test", timeout=30)
        assert event["id"] == sent["id"]
        deadline = time.monotonic() + 10
        while True:
            done = api.get(f"/v1/admin/webhooks/{endpoint['id']}/deliveries", headers=admin).json()
            if done["data"][0]["status"] == "delivered":
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert done["data"][0]["attempts"] >= 2


def test_other_workspaces_events_are_not_sent_to_an_endpoint(api, fake_gateway):
    admin = admin_headers(fake_gateway)
    fake_gateway.keys.create_workspace("team-b")
    with tf.webhooks.Receiver() as rx:
        endpoint = api.post(
            "/v1/admin/workspaces/team-b/webhooks", json={"url": rx.url}, headers=admin
        ).json()
        rx.secret = endpoint["secret"]
        rows = [
            {
                "custom_id": "a",
                "body": {"model": MODEL, "messages": [{"role": "user", "content": "x"}]},
            }
        ]
        data = "".join(json.dumps(r) + "\n" for r in rows).encode()
        api.post("/v1/batch", files={"file": ("b.jsonl", data)}, data={"sla": "1h"})
        api.post(f"/v1/admin/webhooks/{endpoint['id']}/test", headers=admin)
        rx.wait_for("webhook.test", timeout=30)
        time.sleep(0.5)
        assert [e["type"] for e in rx.events] == ["webhook.test"]


def test_deliveries_resume_after_the_gateway_is_killed_between_attempts(tmp_path: Path):
    """kill -9 after a failed attempt; the restarted process delivers the same event."""
    db = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "TOKENFACTORY_WEBHOOK_RETRY_SCALE": "0.2",
        "TOKENFACTORY_HOME": str(tmp_path),
    }
    with tf.webhooks.Receiver() as rx:  # no secret: every attempt of the first process fails
        cmd = [sys.executable, "-m", "tests.unit.webhook_crash_worker", str(db), rx.url]
        first = subprocess.Popen([*cmd, "emit"], env=env, stdout=subprocess.PIPE, text=True)
        try:
            secret = first.stdout.readline().split()[1]
            deadline = time.monotonic() + 60
            import sqlite3

            while True:  # wait until one attempt failed, then kill between attempts
                with sqlite3.connect(db) as conn:
                    row = conn.execute(
                        "SELECT attempts, event_id FROM webhook_deliveries"
                    ).fetchone()
                if row and row[0] >= 1:
                    break
                assert time.monotonic() < deadline
                time.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            first.kill()
        event_id = row[1]
        rx.secret = secret
        second = subprocess.Popen([*cmd, "resume"], env=env)
        try:
            event = rx.wait_for("batch.completed", timeout=60)
        finally:
            second.kill()
            second.wait(10)
        assert event["id"] == event_id and event["data"] == {"id": "batch_killed"}


def test_cli_adds_lists_and_removes_endpoints(capsys, tf_home):
    from tokenfactory.cli import main

    main(["workspaces", "create", "team-c"])
    capsys.readouterr()
    assert main(["webhooks", "add", "--workspace", "team-c", "http://127.0.0.1:9/h",
                 "--event", "batch.failed"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    endpoint_id = out.split()[1]
    assert "whsec_" in out and "batch.failed" in out
    assert main(["webhooks", "list", "--workspace", "team-c"]) == 0
    assert endpoint_id in capsys.readouterr().out
    assert main(["webhooks", "deliveries", endpoint_id]) == 0
    assert main(["webhooks", "remove", endpoint_id]) == 0
    capsys.readouterr()
    main(["webhooks", "list", "--workspace", "team-c"])
    assert "no webhook endpoints" in capsys.readouterr().out
    assert main(["webhooks", "add", "--workspace", "team-c", "http://x", "--event", "nope"]) == 1
