#!/usr/bin/env bash
# System packages speechqa's tests use: Debian's espeak-ng writes the sample calls, the web
# app's tests drive Debian's chromium (Playwright's own browser download cannot work here), and
# the speaker tests mix real recordings from pocketsphinx-testdata (LibriVox and CMU readers).
# Installs them when missing and this user can (root with apt-get); otherwise says what to run.
set -euo pipefail
missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -d /usr/share/pocketsphinx/test/data/librivox ] || missing+=(pocketsphinx-testdata)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} with apt-get" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "note: install ${missing[*]} (e.g. sudo apt-get install ${missing[*]}) to run every test" >&2
fi
