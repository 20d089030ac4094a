#!/usr/bin/env bash
# Builds the Siteline desktop app with its UI embedded and starts it. The site database goes
# to the OS app-data folder, or to the file named by SITELINE_DB.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

(cd ui && TAURI_APP_PATH="$PWD/../src-tauri" npm run tauri -- build --debug --no-bundle)
exec target/debug/siteline-desktop "$@"
