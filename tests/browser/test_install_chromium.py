"""``make test-browser-deps`` installs chromium only when missing and never upgrades anything
(issue 15: it used to upgrade perl and others as root). apt-get and id are stand-ins on PATH
that record what they were asked and answer apt's simulation with a scripted plan."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

NEW_ONLY = """\
NOTE: This is only a simulation!
Inst chromium-common (156.0.8078.114-1~deb12u1 Debian-Security:12/stable-security [amd64])
Inst libdouble-conversion3 (3.2.1-1 Debian:12/stable [amd64])
Inst chromium (156.0.8078.114-1~deb12u1 Debian-Security:12/stable-security [amd64])
Conf chromium-common (156.0.8078.114-1~deb12u1 Debian-Security:12/stable-security [amd64])
"""
WITH_UPGRADE = """\
Inst perl-base [5.36.0-7+deb12u1] (5.36.0-7+deb12u2 Debian-Security:12/stable-security [amd64])
Inst chromium (156.0.8078.114-1~deb12u1 Debian-Security:12/stable-security [amd64])
"""


def run_deps(tmp_path: Path, plan: str, chromium: str = "no-such-chromium-for-tests"):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    log.touch()
    (tmp_path / "plan").write_text(plan)
    (bin_dir / "apt-get").write_text(
        '#!/bin/sh\necho "$*" >> "$APT_LOG"\ncase " $* " in *" -s "*) cat "$APT_PLAN";; esac\n'
    )
    (bin_dir / "id").write_text("#!/bin/sh\necho 0\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CHROMIUM": chromium,
        "APT_LOG": str(log),
        "APT_PLAN": str(tmp_path / "plan"),
    }
    done = subprocess.run(
        ["make", "-s", "--no-print-directory", "test-browser-deps"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, log.read_text().splitlines()


def test_installs_only_the_missing_packages_and_says_which(tmp_path):
    out, calls = run_deps(tmp_path, NEW_ONLY)
    assert "new packages: chromium-common libdouble-conversion3 chromium" in out
    installs = [c for c in calls if c.startswith("install -y")]
    assert len(installs) == 1
    assert "--no-install-recommends" in installs[0] and "--no-upgrade" in installs[0]
    assert installs[0].split()[-1] == "chromium"


def test_installs_nothing_when_an_installed_package_would_be_upgraded(tmp_path):
    out, calls = run_deps(tmp_path, WITH_UPGRADE)
    assert "would upgrade installed packages (perl-base)" in out
    assert "browser tests will be skipped" in out
    assert not [c for c in calls if c.startswith("install -y")]


def test_does_nothing_when_chromium_is_there(tmp_path):
    out, calls = run_deps(tmp_path, NEW_ONLY, chromium="sh")
    assert "already installed" in out
    assert calls == []
