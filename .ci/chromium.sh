#!/usr/bin/env bash
# The browser the report tests drive (test/report/browser.test.ts): Debian's chromium, driven by
# playwright-core (no browser download from a CDN). Installed only when no chromium binary exists;
# where it cannot be installed, the browser tests skip and say why.
set -euo pipefail

find_chromium() {
  for c in "${OUTAGE_LAB_CHROMIUM:-}" chromium chromium-browser google-chrome-stable google-chrome; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && { command -v "$c"; return 0; }
  done
  return 1
}

if path=$(find_chromium); then
  echo "== chromium present: $path ($("$path" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing chromium (Debian package) for the report's browser tests"
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; }; then
    path=$(find_chromium) && echo "== chromium installed: $path" && exit 0
  fi
  echo "== could not install chromium: the browser tests will be skipped"
else
  echo "== no chromium and no root apt-get: the browser tests will be skipped"
fi
exit 0
