#!/usr/bin/env bash
# The whole product, from nothing: set-up (Node 24 and pnpm where missing, dependencies), the
# local stack (downloaded once), then the product's steps (scripts/pipeline-steps.sh): bootstrap,
# 134 readings per station from Winnipeg and Vancouver, the sink until it has caught up, and the
# per-city summary read back from PostgreSQL; then how to open the live dashboard. Leaves the
# stack running; `pnpm stack down` stops it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/toolchain.sh
ensure_toolchain

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "1/5 local stack: PostgreSQL, Kafka, schema registry"
pnpm -s stack up

bash scripts/pipeline-steps.sh

# The dashboard is a long-running web server: this script says how to open it rather than
# leaving a process behind.
dashboard_url="http://127.0.0.1:${DASHBOARD_PORT:-8080}/"
path_hint=""
case ":$PATH:" in *":$PWD/.tools/node_modules/.bin:"*) path_hint="export PATH=$PWD/.tools/node_modules/.bin:\$PATH && " ;; esac
backfill_month="$(date -u -d "${PIPELINE_FROM:-2026-01-01T00:00:00Z}" '+%B %Y' 2>/dev/null || echo "${PIPELINE_FROM:-}")"
step "Next: the live dashboard"
cat <<EOT
Start it (it reads PostgreSQL as weather_reader, the read-only role bootstrap created):
  ${path_hint}pnpm --filter dashboard start
then open ${dashboard_url} in a browser.
The readings above are a backfill of ${backfill_month}: they show as each station's latest reading.
For live charts of the last 24 hours, run the stations and the sink in real time:
  pnpm --filter sensor-producer start   and   pnpm --filter pg-sink start
EOT
