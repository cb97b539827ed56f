"""``%%tf_batch`` in a real IPython shell, against a live gateway on the fake engine."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture
def ip(gateway, monkeypatch):
    from IPython.testing.globalipapp import get_ipython

    monkeypatch.setattr("tokenfactory.server._current", None)  # no session-wide tf.serve()
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", gateway.base_url)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", gateway.api_key)
    shell = get_ipython()
    shell.run_line_magic("load_ext", "tokenfactory")
    yield shell
    for name in ("batch_job", "batch_job_monitor", "jobs", "jobs_monitor"):
        monitor = shell.user_ns.pop(name, None)
        if hasattr(monitor, "close") and name.endswith("monitor"):
            monitor.close()


def test_jsonl_cell_gets_the_model_from_the_magic_line(ip, gateway):
    cell = (
        '{"custom_id": "q1", "body": {"messages": [{"role": "user", "content": "Hi"}]}}\n'
        "\n"
        '{"custom_id": "q2", "body": {"messages": [{"role": "user", "content": "Yo"}]}}\n'
    )
    ip.run_cell_magic("tf_batch", "--sla 1h --model test/chat --max-tokens 3", cell)
    job = ip.user_ns["batch_job"]
    monitor = ip.user_ns["batch_job_monitor"]
    monitor.wait(30)
    assert monitor.status == "completed" and monitor.error == ""
    frame = job.to_pandas()
    assert list(frame["custom_id"]) == ["q1", "q2"]
    assert list(frame["response"]) == ["Hel", "Hel"]
    assert frame["request"][0]["model"] == "test/chat"
    assert job.sla == "1h"


def test_dataframe_template_cell(ip):
    ip.user_ns["people"] = pd.DataFrame({"name": ["Ada", "Linus"], "key": ["a", "l"]})
    ip.run_cell_magic(
        "tf_batch",
        "--df people --id-column key --model test/chat --name jobs --no-monitor",
        "Say hello to {name}",
    )
    job = ip.user_ns["jobs"].wait(poll_interval=0.05, progress=False)
    frame = job.to_pandas()
    assert list(frame["custom_id"]) == ["a", "l"]
    assert frame["request"][1]["messages"][0]["content"] == "Say hello to Linus"


def test_usage_errors_print_instead_of_raising(ip, capsys):
    ip.run_cell_magic("tf_batch", "--df missing", "x {a}")
    assert "no variable named 'missing'" in capsys.readouterr().out
    ip.run_cell_magic("tf_batch", "--model test/chat", "not json\n")
    assert "line 1: not valid JSON" in capsys.readouterr().out
    ip.run_cell_magic("tf_batch", "--sla 2h", "{}")
    assert "bad arguments" in capsys.readouterr().out
