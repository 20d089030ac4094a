#!/usr/bin/env bash
# Installs what Siteline needs to build, run and test on Debian 12 / Ubuntu: the system
# libraries Tauri links against, and the UI's Node packages (npm ci, from package-lock.json).
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential pkg-config libssl-dev
  libwebkit2gtk-4.1-dev libsoup-3.0-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev
  # The end-to-end UI test: a virtual display, WebKit's WebDriver, CJK fonts for screenshots.
  xvfb xauth webkit2gtk-driver fonts-noto-cjk
  # The API fuzz: schemathesis from PyPI in a virtual environment, a real server polled by curl.
  python3-venv curl
  # The credit bank on PostgreSQL: a throwaway cluster per test run (scripts/with-postgres.sh).
  postgresql
  # HQ's web pages (the certificate verify page) in a real browser: Chromium and ChromeDriver.
  chromium chromium-driver
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "setup: $1 is missing; $2" >&2; exit 1; }
}
need cargo "install Rust (stable, 1.89 or newer) with rustup"
need node "install Node.js 20.19 or newer"
need npm "install npm 10 or newer"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { echo "setup: Node.js $(node --version) is too old; Vite 7 needs 20.19 or newer" >&2; exit 1; }

if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  echo "setup: npm ci in ui/"
  (cd ui && npm ci --no-audit --no-fund)
fi

if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "setup: cargo install tauri-driver"
  cargo install tauri-driver --version '^2' --locked
fi
