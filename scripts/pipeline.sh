#!/usr/bin/env bash
# The product, from nothing: Node 24 and pnpm where missing, dependencies, the local stack
# (downloaded once), then its status. Leaves the stack running; `pnpm stack down` stops it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/toolchain.sh
ensure_toolchain

say "bringing the local stack up"
pnpm -s stack up
pnpm -s stack status
