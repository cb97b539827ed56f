"""``tokenfactory batch ...`` against the gateway app (fake engine), through the SDK."""

from __future__ import annotations

import json

import pytest

from tokenfactory.cli import main


@pytest.fixture
def cli_env(api, fake_gateway, monkeypatch):
    """The CLI's SDK client goes through the test app; URL and key come from the environment."""
    import tokenfactory.sdk as sdk

    real = sdk.TokenFactory
    seen = {}

    def client(**kwargs):
        seen.update(kwargs)
        return real(http_client=api, **kwargs)

    monkeypatch.setattr(sdk, "TokenFactory", client)
    monkeypatch.setattr("tokenfactory.server._current", None)  # no session-wide tf.serve()
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", "http://testserver/v1")
    monkeypatch.setenv("TOKENFACTORY_API_KEY", fake_gateway.test_key)
    return seen


def test_submit_status_results_list_cancel(cli_env, tmp_path, capsys):
    path = tmp_path / "in.jsonl"
    rows = [
        {"custom_id": f"c{i}", "body": {"model": "test/chat",
                                        "messages": [{"role": "user", "content": "hi"}]}}
        for i in range(3)
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["batch", "submit", str(path), "--sla", "1h", "--wait", "--json"]) == 0
    job = json.loads(capsys.readouterr().out)
    assert job["status"] == "completed" and job["completed_requests"] == 3 and job["sla"] == "1h"

    assert main(["batch", "status", job["id"]]) == 0
    assert "completed=3" in capsys.readouterr().out

    out = tmp_path / "out.jsonl"
    assert main(["batch", "results", job["id"], "-o", str(out)]) == 0
    assert "wrote 3 results" in capsys.readouterr().err
    assert [json.loads(x)["custom_id"] for x in out.read_text().splitlines()] == ["c0", "c1", "c2"]

    assert main(["batch", "list"]) == 0
    assert job["id"] in capsys.readouterr().out
    assert main(["batch", "cancel", job["id"]]) == 0
    assert "completed" in capsys.readouterr().out
    assert cli_env["base_url"] is None  # resolved from TOKENFACTORY_BASE_URL by the SDK


def test_errors_are_one_line_and_exit_1(cli_env, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    assert main(["batch", "submit", str(bad)]) == 1
    assert "line 1: not valid JSON" in capsys.readouterr().err
    assert main(["batch", "status", "batch_nope", "--base-url", "http://testserver/v1"]) == 1
    assert "No batch found" in capsys.readouterr().err
    assert main(["batch", "submit", str(tmp_path / "missing.jsonl")]) == 1
    assert "missing.jsonl" in capsys.readouterr().err


def test_without_a_gateway_the_shell_is_told_to_start_one_with_the_cli(monkeypatch, capsys):
    monkeypatch.setattr("tokenfactory.server._current", None)  # no session-wide server
    assert main(["batch", "list"]) == 1
    err = capsys.readouterr().err.strip()
    assert "tf.serve()" not in err
    assert err.startswith("error: No tokenfactory gateway is running: start one with")
    assert "`tokenfactory serve`" in err and err.count("\n") == 0
