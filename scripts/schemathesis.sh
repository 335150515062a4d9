#!/usr/bin/env bash
# Property-based API test: schemathesis (PyPI) against `/api/openapi.json` of a fresh
# `querywarden demo`, signed in as a querier, for a bounded time. It fails on any 5xx answer
# and on any answer that does not match what the document says of it.
#
# Installs schemathesis into a virtualenv in the repository's ignored .schemathesis/ when missing (needs python3 with
# venv and pip, and the network once), builds the CLI, starts the demo on a free port with a
# throw-away data directory, signs in through the demo card signer, and runs `st run`.
#
#   scripts/schemathesis.sh                          # default: 40 examples an operation, 300 s
#   ST_MAX_EXAMPLES=200 ST_TIME_LIMIT=900 scripts/schemathesis.sh
#   QUERYWARDEN_BIN=/path/querywarden scripts/schemathesis.sh   # skip the build
#   ST_ACCOUNT=wu.zhiming scripts/schemathesis.sh    # another role
#
# `POST /api/v1/session/lock` is left out: it would lock the run's own session.
# The report (JUnit XML) goes to test-output/schemathesis/.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
log() { printf '==> %s\n' "$*" >&2; }

venv="${ST_VENV:-$repo/.schemathesis/venv}"
max_examples="${ST_MAX_EXAMPLES:-40}"
time_limit="${ST_TIME_LIMIT:-300}"
account="${ST_ACCOUNT:-lin.meiling}"
password="${ST_PASSWORD:-demo-password-115}"

# --- schemathesis -----------------------------------------------------------------------
if [ ! -x "$venv/bin/st" ]; then
  command -v python3 >/dev/null 2>&1 || { log "python3 is needed"; exit 1; }
  log "installing schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi

# --- the server -------------------------------------------------------------------------
if [ -z "${QUERYWARDEN_BIN:-}" ]; then
  log "cargo build -p querywarden-cli"
  cargo build --quiet -p querywarden-cli
  QUERYWARDEN_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/querywarden"
fi
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
"$QUERYWARDEN_BIN" demo --empty --listen 127.0.0.1:0 --data "$work/data" >"$work/demo.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 1 600); do
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/demo.log" | head -n1 || true)"
  if [ -n "$url" ] && curl -fsS "$url/healthz" >/dev/null 2>&1; then break; fi
  url=""
  sleep 0.5
done
[ -n "$url" ] || { log "the demo did not start"; cat "$work/demo.log" >&2; exit 1; }
log "demo at $url"

# --- a session: nonce, the demo card's signature, sign-in; the CSRF token from /api/v1/me --
read -r cookie csrf < <("$venv/bin/python" - "$url" "$account" "$password" <<'PY'
import sys, requests
url, account, password = sys.argv[1:4]
s = requests.Session()
r = s.post(f"{url}/auth/nonce"); r.raise_for_status()
nonce = r.json()["nonce"]
signed = s.post(f"{url}/demo/card/sign",
                json={"account": account, "nonce": nonce, "password": password})
signed.raise_for_status()
signed = signed.json()
r = s.post(f"{url}/login", allow_redirects=False, data={
    "account": account, "password": password, "nonce": nonce,
    "signature": signed["signature"], "certificate": signed["certificate"], "format": "PKCS7"})
assert r.status_code == 303, (r.status_code, r.text[:300])
session = s.cookies.get("qw_session")
me = s.get(f"{url}/api/v1/me"); me.raise_for_status()
print(f"qw_session={session}", me.json()["csrf_token"])
PY
)

# --- the run ----------------------------------------------------------------------------
mkdir -p test-output/schemathesis
log "st run: $max_examples examples an operation, at most $time_limit s"
set +e
timeout --signal=INT "$time_limit" "$venv/bin/st" run "$url/api/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$max_examples" \
  --exclude-path /api/v1/session/lock \
  --header "Cookie: $cookie" \
  --header "X-CSRF-Token: $csrf" \
  --report junit --report-junit-path test-output/schemathesis/junit.xml
status=$?
set -e
# A run cut by the time limit (124, or 130 after SIGINT) is a bounded run, not a failure;
# what it found before the limit is in the report.
if [ "$status" -eq 124 ] || [ "$status" -eq 130 ]; then
  if grep -q '<failure' test-output/schemathesis/junit.xml 2>/dev/null; then exit 1; fi
  log "time limit reached with no failure"
  exit 0
fi
exit "$status"
