#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the UI's type-check, unit tests and build, and
# the whole Rust workspace's tests. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "== ui: type-check, build, unit tests"
(cd ui && npm run build && npm test)

echo "== cargo fmt"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked
