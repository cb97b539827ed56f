#!/usr/bin/env bash
# Debian's chromium for the browser tests (`make test-browser-deps`), installed only when it is
# missing, and nothing else: no recommended packages, and never an upgrade of an installed
# package. If apt would have to upgrade one to install chromium, nothing is installed and the
# browser tests are skipped. Says what it installs. Never fails the build.
set -u
CHROMIUM="${CHROMIUM:-chromium}"

if command -v "$CHROMIUM" >/dev/null 2>&1; then
    echo "chromium: already installed ($(command -v "$CHROMIUM"))"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium is not installed (as root: apt-get install --no-install-recommends chromium);" \
        "the browser tests will be skipped"
    exit 0
fi
if ! apt-get update -qq; then
    echo "apt-get update failed: chromium not installed, the browser tests will be skipped"
    exit 0
fi
plan=$(apt-get install -s --no-install-recommends --no-upgrade chromium 2>&1) || {
    echo "apt cannot install chromium: the browser tests will be skipped"
    echo "$plan" | tail -3
    exit 0
}
# "Inst NAME [INSTALLED-VERSION] (NEW-VERSION ...)" is an upgrade; "Inst NAME (VERSION ...)" is new.
upgrades=$(echo "$plan" | awk '/^Inst [^ ]+ \[/ {print $2}' | tr '\n' ' ')
if [ -n "$upgrades" ]; then
    echo "installing chromium would upgrade installed packages (${upgrades% }): not installing;" \
        "the browser tests will be skipped"
    exit 0
fi
new=$(echo "$plan" | awk '/^Inst / {print $2}' | tr '\n' ' ')
echo "installing Debian's chromium for the browser tests; new packages: ${new% }"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade chromium \
    || echo "chromium could not be installed: the browser tests will be skipped"
