#!/usr/bin/env bash
# Builds the relay's default policy plugins (plugins/jwtauth, plugins/route)
# as WebAssembly into server/internal/defaultplugins/wasm/, where the relay
# embeds them: run before building or testing the server (the Makefile does).
# The outputs are not committed.
#
# Also rebuilds the hand-written example plugins/examples/allowlist.wasm
# (which is committed) if wat2wasm (WABT) is installed; without it the
# committed binary is left as it is.
#
# Environment: GO (default go), OUT (default server/internal/defaultplugins/wasm).
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
OUT=${OUT:-server/internal/defaultplugins/wasm}
mkdir -p "$OUT"

for p in jwtauth route; do
  GOOS=wasip1 GOARCH=wasm "$GO" build -buildmode=c-shared -trimpath -ldflags='-s -w' \
    -o "$OUT/$p.wasm" "./plugins/$p"
  echo "built $OUT/$p.wasm ($(wc -c <"$OUT/$p.wasm") bytes)"
done

if command -v wat2wasm >/dev/null 2>&1; then
  wat2wasm plugins/examples/allowlist.wat -o plugins/examples/allowlist.wasm
  echo "built plugins/examples/allowlist.wasm"
else
  echo "wat2wasm not found (install wabt): plugins/examples/allowlist.wasm not rebuilt"
fi
