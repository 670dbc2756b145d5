#!/usr/bin/env bash
# Installs what the Playground's browser test (test/playground/) needs: Debian's chromium, a CJK
# font (so Chinese text renders in headless screenshots instead of tofu boxes) and curl (the test
# runs the page's curl snippet).
#
# Idempotent and quick when both are present (no apt-get update then). Never fatal: where apt is
# missing or we may not use it, it says why and exits 0, and the browser test skips loudly.
#
#   scripts/install-chromium.sh            # install if missing
#   CHROMIUM_PATH=/usr/bin/chromium        # what the test launches (default)
set -uo pipefail

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
# WenQuanYi Micro Hei is in the page's font stack and small (~5 MB, vs ~60 MB for Noto CJK).
CJK_FONT_PACKAGE="fonts-wqy-microhei"

say() { echo "install-chromium: $*"; }

has_chromium() { [ -x "$CHROMIUM_PATH" ]; }
has_cjk_font() { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh-cn family 2>/dev/null | head -n 1)" ]; }
has_curl() { command -v curl >/dev/null 2>&1; }

if has_chromium && has_cjk_font && has_curl; then
  say "chromium ($("$CHROMIUM_PATH" --version 2>/dev/null || echo "$CHROMIUM_PATH")), a CJK font and curl are already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  say "apt-get not found (not Debian/Ubuntu?); install chromium yourself and set CHROMIUM_PATH -- the browser test will skip until then"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  say "not root and no password-less sudo; run 'sudo apt-get install -y chromium $CJK_FONT_PACKAGE curl' -- the browser test will skip until then"
  exit 0
fi

packages=()
has_chromium || packages+=(chromium)
has_cjk_font || packages+=("$CJK_FONT_PACKAGE")
has_curl || packages+=(curl ca-certificates)
say "installing ${packages[*]} with apt-get"

export DEBIAN_FRONTEND=noninteractive
if ! "${as_root[@]}" apt-get update -qq; then
  say "apt-get update failed (offline or no Debian mirror?); the browser test will skip"
  exit 0
fi
if ! "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"; then
  say "apt-get install ${packages[*]} failed; the browser test will skip"
  exit 0
fi

if has_chromium; then
  say "ready: $("$CHROMIUM_PATH" --version 2>/dev/null || echo "$CHROMIUM_PATH")"
else
  say "chromium was installed but $CHROMIUM_PATH is missing; set CHROMIUM_PATH to its binary"
fi
exit 0
