#!/usr/bin/env bash
# Installs the Learning Record Store the xAPI test sends to: ralph (France Université
# Numérique's LRS, `ralph-malph` from PyPI) with its file-system backend, into a virtual
# environment under target/. The test (tests/tests/lrs.rs) starts it on a free loopback port
# with credentials of its own and stops it at the end. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

RALPH_VERSION=5.1.0
venv=target/lrs-venv
if [ "$("$venv/bin/ralph" --version 2>/dev/null)" != "ralph, version $RALPH_VERSION" ]; then
  echo "lrs: installing ralph-malph $RALPH_VERSION into $venv"
  python3 -m venv "$venv"
  # ralph's LRS imports requests for its OIDC backend even when only Basic auth is used.
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "ralph-malph[cli,lrs]==$RALPH_VERSION" "requests==2.34.2"
fi
"$venv/bin/ralph" --version
