#!/usr/bin/env bash
# The whole product, from nothing: set-up (Node 24 and pnpm where missing, dependencies), the
# local stack (downloaded once), bootstrap, 134 readings per station from Winnipeg and Vancouver,
# the sink until it has caught up, then the per-city summary read back from PostgreSQL, and how to
# open the live dashboard. Leaves the stack running; `pnpm stack down` stops it.
#
# The readings are a seeded backfill over fixed simulated hours, so they are the same readings on
# every run: running this again re-sends them and the sink, which stores each reading once,
# still shows 134 rows per city.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/toolchain.sh
ensure_toolchain

PIPELINE_COUNT="${PIPELINE_COUNT:-134}"
PIPELINE_FROM="${PIPELINE_FROM:-2026-01-01T00:00:00Z}"
PIPELINE_SEED="${PIPELINE_SEED:-2026}"

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "1/5 local stack: PostgreSQL, Kafka, schema registry"
pnpm -s stack up

step "2/5 bootstrap: database, migrations, city tables, topics, schemas"
pnpm -s --filter bootstrap start

step "3/5 sensor-producer: $PIPELINE_COUNT readings per station (CYWG Winnipeg, CYVR Vancouver)"
pnpm -s --filter sensor-producer start \
  --stations CYWG,CYVR --count "$PIPELINE_COUNT" --from "$PIPELINE_FROM" --step 1h --seed "$PIPELINE_SEED"

step "4/5 pg-sink: consuming until caught up"
pnpm -s --filter pg-sink start --until-caught-up

step "5/5 report: what PostgreSQL holds"
pnpm -s --filter report start

# The dashboard is a long-running web server: this script says how to open it rather than
# leaving a process behind.
dashboard_url="http://127.0.0.1:${DASHBOARD_PORT:-8080}/"
path_hint=""
case ":$PATH:" in *":$PWD/.tools/node_modules/.bin:"*) path_hint="export PATH=$PWD/.tools/node_modules/.bin:\$PATH && " ;; esac
backfill_month="$(date -u -d "$PIPELINE_FROM" '+%B %Y' 2>/dev/null || echo "$PIPELINE_FROM")"
step "Next: the live dashboard"
cat <<EOF
Start it (it reads PostgreSQL as weather_reader, the read-only role bootstrap created):
  ${path_hint}pnpm --filter dashboard start
then open ${dashboard_url} in a browser.
The readings above are a backfill of ${backfill_month}: they show as each station's latest reading.
For live charts of the last 24 hours, run the stations and the sink in real time:
  pnpm --filter sensor-producer start   and   pnpm --filter pg-sink start
EOF
