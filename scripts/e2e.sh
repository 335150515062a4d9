#!/usr/bin/env bash
# Browser end-to-end tests: headless Debian Chromium (playwright-core) against `querywarden demo`.
#
# Installs what is missing (Chromium and CJK fonts from apt, Node.js if absent, the e2e npm
# packages from e2e/package-lock.json), builds the CLI, and runs `node --test` over e2e/tests/.
# Safe to run again: every step is skipped when already done (cargo only rebuilds changes).
#
#   scripts/e2e.sh                      # everything
#   CARGO_TARGET_DIR=/some/dir scripts/e2e.sh
#   QUERYWARDEN_BIN=/path/querywarden scripts/e2e.sh   # skip the build, test that binary
#
# Screenshots of every page the tests pass through: test-output/screenshots/.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    log "need root (or sudo) to run: $*"
    exit 1
  fi
}

deb_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

# --- system packages -------------------------------------------------------------------
# chromium: the browser; fonts-noto-cjk: so the zh-TW pages (and their screenshots) show
# characters rather than empty boxes; nodejs/npm only when there is no node at all.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
deb_installed fonts-noto-cjk || missing+=(fonts-noto-cjk)
# poppler-utils: the documents test reads the downloaded PDFs back as text.
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  log "Node.js $(node --version) is too old: playwright-core and the tests need Node.js 20 or later"
  exit 1
fi

# --- npm packages (exact versions from the lock file) ----------------------------------
if [ ! -d e2e/node_modules/playwright-core ] || [ ! -d e2e/node_modules/axe-core ]; then
  log "npm ci --prefix e2e"
  npm ci --prefix e2e --no-audit --no-fund
fi

# --- the binary ------------------------------------------------------------------------
if [ -z "${QUERYWARDEN_BIN:-}" ]; then
  # cargo's own answer for the target dir: honours CARGO_TARGET_DIR and cargo config.
  target_dir="$(cargo metadata --format-version 1 --no-deps --locked |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')"
  log "cargo build -p querywarden-cli --locked (target dir: $target_dir)"
  cargo build -p querywarden-cli --locked
  QUERYWARDEN_BIN="$target_dir/debug/querywarden"
fi
if [ ! -x "$QUERYWARDEN_BIN" ]; then
  log "no querywarden binary at $QUERYWARDEN_BIN"
  exit 1
fi
export QUERYWARDEN_BIN

# --- the tests -------------------------------------------------------------------------
# Test files are named explicitly (the shell expands the pattern): Node 21+ no longer
# searches a directory given to --test.
log "node --test e2e/tests/ (QUERYWARDEN_BIN=$QUERYWARDEN_BIN)"
mkdir -p test-output/screenshots
node --test e2e/tests/*.test.mjs

# --- the user guides -------------------------------------------------------------------
# docs/guides/ show these tests' screenshots: build them, failing if one is missing.
scripts/guides.sh
