#!/usr/bin/env bash
# Installs what the test suite needs and a fresh Debian machine lacks:
# ffmpeg (tests feed real encoder output through the relay), redis-server
# (the publish registry is tested against a real one) and chromium (the
# player demo is tested in Debian's headless Chromium, driven by the npm
# package playwright-core, which downloads no browser). Go modules come from
# the module proxy through the go command itself.
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "installing: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
