"""The command line: keys create prints the key alone on its last line; serve answers HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tokenfactory import config
from tokenfactory.cli import main
from tokenfactory.store import KeyStore, Store


def test_keys_create_prints_key_last(capsys, tf_home):
    assert main(["keys", "create", "--workspace", "team-a"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    key = lines[-1]
    assert key.startswith("tf-") and " " not in key
    principal = KeyStore(Store(config.database_path())).authenticate(key)
    assert principal.workspace.name == "team-a"
    assert key not in config.database_path().read_bytes().decode("latin-1")


def test_keys_list_and_revoke(capsys, tf_home):
    main(["keys", "create", "--workspace", "w"])
    key = capsys.readouterr().out.strip().splitlines()[-1]
    main(["keys", "list", "--workspace", "w"])
    listed = capsys.readouterr().out
    key_id = listed.split()[0]
    assert key not in listed
    assert main(["keys", "revoke", key_id]) == 0
    store = KeyStore(Store(config.database_path()))
    with pytest.raises(Exception, match="revoked"):
        store.authenticate(key)
    assert main(["keys", "revoke", "key_nope"]) == 1


@pytest.mark.integration
def test_serve_command_answers_with_the_given_key(tf_home, tmp_path):
    port = 18000 + os.getpid() % 1000
    env = {**os.environ, "TOKENFACTORY_HOME": str(tf_home)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tokenfactory.cli",
            "serve",
            "--port",
            str(port),
            "--api-key",
            "tf-cli-test-key",
            "--model",
            "sentence-transformers/all-MiniLM-L6-v2",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        r = httpx.post(
            f"http://127.0.0.1:{port}/v1/embeddings",
            json={"model": "sentence-transformers/all-MiniLM-L6-v2", "input": "hello"},
            headers={"Authorization": "Bearer tf-cli-test-key"},
        )
        assert r.status_code == 200, r.text
        assert len(r.json()["data"][0]["embedding"]) == 384
        assert httpx.get(f"http://127.0.0.1:{port}/v1/models").status_code == 401
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "tf-cli-test-key" not in out
