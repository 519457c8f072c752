#!/usr/bin/env bash
# The whole product, from nothing: set-up (Node 24 and pnpm where missing, dependencies), the
# local stack (downloaded once), then the product's steps (scripts/pipeline-steps.sh): bootstrap,
# 134 readings per station from Winnipeg and Vancouver, the sink until it has caught up, and the
# per-city summary read back from PostgreSQL. Leaves the stack running; `pnpm stack down` stops it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/toolchain.sh
ensure_toolchain

printf '\n\033[1m== %s\033[0m\n' "1/5 local stack: PostgreSQL, Kafka, schema registry" >&2
pnpm -s stack up

bash scripts/pipeline-steps.sh
