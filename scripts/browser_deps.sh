#!/usr/bin/env bash
# The browser test needs Debian's Chromium and a CJK font (Hangul in screenshots).
# Installs them with apt-get when missing (as root, or with sudo).
set -euo pipefail
if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing chromium and fonts-noto-cjk for the browser test ..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
