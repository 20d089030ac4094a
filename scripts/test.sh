#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the UI's type-check, unit tests and build, and
# the whole Rust workspace's tests, then the credit bank's and the end-to-end tests again on a
# throwaway PostgreSQL cluster. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "== ui: type-check, build, unit tests"
(cd ui && npm run build && npm test)

echo "== cargo fmt"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== desktop app with its UI embedded, driven through WebDriver under Xvfb"
# The release build, as a site's laptop runs it: the test measures the window's memory.
(cd ui && TAURI_APP_PATH="$PWD/../src-tauri" npm run tauri -- build --no-bundle)
cargo build -p siteline-e2e --bin ui_e2e --bin ui_lan --locked
xvfb-run -a -s '-screen 0 1280x800x24' target/debug/ui_e2e target/release/siteline-desktop target/ui-screenshots
echo "== two app instances of one site: LAN sync with no credit bank running"
xvfb-run -a -s '-screen 0 1280x800x24' target/debug/ui_lan target/release/siteline-desktop target/ui-screenshots

echo "== API fuzz: every endpoint from the OpenAPI document, no 5xx, nothing written"
scripts/fuzz-api.sh

echo "== the Learning Record Store the xAPI test sends to (ralph, from PyPI)"
scripts/lrs.sh

echo "== cargo test (the credit bank on SQLite)"
log=$(mktemp)
pglog=$(mktemp)
set +e
cargo test --workspace --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
echo "== the credit bank's tests and the end-to-end sync, fault and many-devices tests again, on PostgreSQL"
scripts/with-postgres.sh cargo test -p creditbank -p siteline-e2e --locked 2>&1 | tee "$pglog"
pg_status=${PIPESTATUS[0]}
if [ "$status" -eq 0 ]; then status=$pg_status; fi
set -e
# One closing line per database, summed over every test binary.
summary() {
  awk -v label="$1" '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
       END { printf "%s: %d passed, %d failed\n", label, p, f }' "$2"
}
summary "cargo" "$log"
summary "cargo on PostgreSQL" "$pglog"
rm -f "$log" "$pglog"
exit "$status"
