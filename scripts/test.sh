#!/usr/bin/env bash
# The whole test suite, as README.md names it: the Rust tests (unit, property, integration
# against the real binary, the BLI simulator and SQLite), then the real-browser tests, then
# schemathesis against the OpenAPI document for a bounded time (no 5xx, answers as documented).
# Works on a fresh machine: scripts/e2e.sh installs Chromium and the npm packages it needs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/querywarden-target}"

# The documents' golden tests read the PDFs back with poppler (pdftotext, pdffonts,
# pdftoppm) and print in Noto Sans CJK TC; they fail, never skip, without them.
missing=()
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'ok installed' || missing+=(fonts-noto-cjk)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  sudo_or=""
  [ "$(id -u)" -eq 0 ] || sudo_or="sudo"
  $sudo_or apt-get update
  $sudo_or env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

echo "== user guides: every screenshot they show is one a browser test takes"
scripts/guides.sh --names-only

echo "== cargo test --workspace"
cargo test --workspace --locked

echo "== browser tests"
scripts/e2e.sh

echo "== schemathesis against /api/openapi.json (bounded)"
QUERYWARDEN_BIN="$CARGO_TARGET_DIR/debug/querywarden" scripts/schemathesis.sh
