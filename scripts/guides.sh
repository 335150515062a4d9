#!/usr/bin/env bash
# Builds the user guides (docs/guides/*.md) into test-output/guides/ together with the
# screenshots they show, which are the browser tests' own (test-output/screenshots/, written by
# `shot(page, '<test>', '<step>')` in e2e/tests/). Fails when a guide shows a screenshot that no
# browser test takes, or one that the last browser-test run did not produce, so the guides
# cannot drift from the pages.
#
#   scripts/guides.sh               # after scripts/e2e.sh: check and build
#   scripts/guides.sh --names-only  # before any run: only check the names against the tests
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

shots=test-output/screenshots
out=test-output/guides

taken="$(grep -ho "shot([A-Za-z]*, '[^']*', '[^']*')" e2e/tests/*.test.mjs |
  sed -E "s/shot\([A-Za-z]*, '([^']*)', '([^']*)'\)/\1-\2/" | sort -u)"
used="$(grep -ho '](screenshots/[^)]*\.png)' docs/guides/*.md |
  sed -E 's/^\]\(screenshots\/(.*)\.png\)$/\1/' | sort -u)"

if [ -z "$used" ]; then
  echo "guides: no screenshot is shown by docs/guides/*.md — the pattern no longer matches?" >&2
  exit 1
fi

status=0
for name in $used; do
  if ! grep -qxF "$name" <<<"$taken"; then
    echo "guides: screenshots/$name.png is shown by $(grep -l "screenshots/$name.png" docs/guides/*.md | tr '\n' ' ')but no browser test takes it" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] || exit "$status"
if [ "${1:-}" = "--names-only" ]; then
  echo "guides: $(wc -w <<<"$used") screenshots named, every one taken by a browser test"
  exit 0
fi

for name in $used; do
  if [ ! -f "$shots/$name.png" ]; then
    echo "guides: $shots/$name.png is missing: run scripts/e2e.sh first (or the test that takes it failed)" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] || exit "$status"

rm -rf "$out"
mkdir -p "$out/screenshots"
cp docs/guides/*.md "$out/"
for name in $used; do
  cp "$shots/$name.png" "$out/screenshots/"
done
echo "guides: $(ls docs/guides/*.md | wc -l) guides with $(wc -w <<<"$used") screenshots in $out/"
