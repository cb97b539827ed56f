"""One engine per machine: tf.serve(), `tokenfactory serve` and `tokenfactory lab` attach to the
gateway already running for this user instead of starting a second engine."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import httpx
import pytest

from tests.fakes import FakeEngine
from tokenfactory import cli, server
from tokenfactory.cli_serve import lab_gateway
from tokenfactory.core import Core
from tokenfactory.store import Store


@pytest.fixture
def fake_build(monkeypatch, tf_home):
    """``build_core`` on fake engines; lists every engine built (one per started gateway)."""
    engines: list[FakeEngine] = []

    def build_core(**kwargs):
        from tokenfactory.features import install_features

        engine = FakeEngine()
        engines.append(engine)
        core = Core(engine, Store(tf_home / "db.sqlite3"))
        install_features(core)
        return core

    monkeypatch.setattr("tokenfactory.runtime.build_core", build_core)
    outer = server._current  # a session-wide real server, if one runs: set it aside
    server._current = None
    started: list[server.ServerHandle] = []
    yield engines, started
    for handle in started:
        handle.stop()
    current = server.current()
    if current is not None:
        current.stop()
    server._current = outer


@pytest.fixture
def other_gateway(fake_build):
    """A gateway as another process would run it: started, announced, then forgotten here."""
    _, started = fake_build
    handle = server.serve(new=True, quiet=True)
    started.append(handle)
    server._current = None  # this "kernel" did not start it
    return handle


def test_serve_attaches_to_the_running_gateway_and_new_starts_another(
    fake_build, other_gateway, capsys
):
    engines, started = fake_build
    attached = server.serve()
    assert attached.mode == "attached" and attached.attached
    assert attached.base_url == other_gateway.base_url
    assert attached.api_key == other_gateway.api_key
    assert len(engines) == 1  # no second engine
    assert "attached to the gateway already running at " + other_gateway.base_url in (
        capsys.readouterr().out
    )
    assert server.serve() is attached

    attached.stop()  # detaches only: the other gateway keeps serving
    assert httpx.get(other_gateway.url + "/health").status_code == 200
    assert server.current() is None

    fresh = server.serve(new=True)
    started.append(fresh)
    assert fresh.mode == "started" and fresh.base_url != other_gateway.base_url
    assert len(engines) == 2
    assert "started a gateway at" in capsys.readouterr().out


def test_a_kernel_with_the_lab_environment_attaches_without_loading_an_engine(
    fake_build, other_gateway, tmp_path
):
    """What a kernel under `make lab` does: tf.serve() attaches; torch is never imported."""
    code = (
        "import json, sys\n"
        "import tokenfactory as tf\n"
        "h = tf.serve()\n"
        "client = tf.TokenFactory()\n"
        "r = client.chat.completions.create(model='test/chat',"
        " messages=[{'role': 'user', 'content': 'hi'}])\n"
        "print(json.dumps({'mode': h.mode, 'base_url': h.base_url,"
        " 'reply': r.choices[0].message.content,"
        " 'engine_modules': sorted(m for m in sys.modules"
        " if m == 'torch' or m.startswith(('tokenfactory.engine.hf', 'vllm')))}))\n"
    )
    env = {
        **os.environ,
        "TOKENFACTORY_BASE_URL": other_gateway.base_url,
        "TOKENFACTORY_API_KEY": other_gateway.api_key,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "elsewhere"),  # found by the variable alone
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["mode"] == "attached"
    assert result["base_url"] == other_gateway.base_url
    assert result["reply"] == "Hello from the fake engine."
    assert result["engine_modules"] == []
    assert len(fake_build[0]) == 1


def test_a_kernel_finds_the_gateway_through_its_discovery_file(fake_build, other_gateway):
    code = "import tokenfactory as tf\nh = tf.serve()\nprint(h.mode, h.base_url)\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )  # the same JUPYTER_RUNTIME_DIR, no TOKENFACTORY_BASE_URL
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == f"attached {other_gateway.base_url}"


def test_a_foreign_server_is_not_attached(fake_build, monkeypatch):
    _, started = fake_build
    foreign = socket.socket()
    foreign.bind(("127.0.0.1", 0))
    foreign.listen()
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", f"http://127.0.0.1:{foreign.getsockname()[1]}/v1")
    try:
        handle = server.serve(quiet=True)  # nothing answers as tokenfactory there
        started.append(handle)
        assert handle.mode == "started"
    finally:
        foreign.close()


def test_the_hint_names_the_notebooks_variable(fake_build, other_gateway):
    text = other_gateway._repr_markdown_()
    assert "handle.api_key" not in text
    assert "api_key=server.api_key" in text


def test_the_key_of_whoever_starts_the_gateway_is_an_admin_key(fake_build, other_gateway):
    r = httpx.get(
        other_gateway.base_url + "/admin/workspaces",
        headers={"Authorization": f"Bearer {other_gateway.api_key}"},
    )
    assert r.status_code == 200


def test_cli_serve_refuses_a_second_gateway(fake_build, other_gateway, capsys):
    assert cli.main(["serve", "--port", "0"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert other_gateway.base_url in err and "--new" in err
    assert len(fake_build[0]) == 1


def test_cli_serve_on_a_busy_port_says_so_and_creates_nothing(fake_build, tf_home, capsys):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        assert cli.main(["serve", "--port", str(port)]) == 1
    finally:
        busy.close()
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        f"error: Port {port} on 127.0.0.1 is already in use; stop what listens there or"
        " choose another port"
    )
    assert "Traceback" not in captured.err and "API key" not in captured.out
    assert fake_build[0] == []  # no engine, no store, no key
    assert not list(tf_home.glob("*.sqlite3"))


def test_lab_uses_the_running_gateway_instead_of_starting_one(fake_build, other_gateway):
    base_url, key, child = lab_gateway(port=1)
    assert (base_url, key, child) == (other_gateway.base_url, other_gateway.api_key, None)


def test_lab_stops_when_its_gateway_cannot_start(fake_build, monkeypatch):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        with pytest.raises(SystemExit) as stopped:
            lab_gateway(port=busy.getsockname()[1])
    finally:
        busy.close()
    assert stopped.value.code == 1


def test_new_starts_another_even_beside_this_processs_gateway(fake_build):
    engines, started = fake_build
    first = server.serve(new=True, quiet=True)
    started.append(first)
    assert server.serve(quiet=True) is first  # a second call reuses
    second = server.serve(new=True, quiet=True)
    started.append(second)
    assert second is not first and second.port != first.port and len(engines) == 2
    assert server.current() is second
    second.stop()
    assert server.current() is first  # the one before it is current again
    assert httpx.get(first.url + "/health").status_code == 200
