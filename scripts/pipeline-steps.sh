#!/usr/bin/env bash
# The product's steps, on a stack that is up and a toolchain on PATH (scripts/pipeline.sh does
# both first): bootstrap, 134 readings per station from Winnipeg and Vancouver, the sink until it
# has caught up, then the per-city summary read back from PostgreSQL. The workers read their usual
# variables (READINGS_TOPIC, DATABASE_URL, SINK_GROUP_ID, ...), so a test can run the same steps
# on a topic and a database of its own (tests/pipeline).
#
# The readings are a seeded backfill over fixed simulated hours, so they are the same readings on
# every run: running this again re-sends them and the sink, which stores each reading once,
# still shows 134 rows per city.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PIPELINE_COUNT="${PIPELINE_COUNT:-134}"
PIPELINE_FROM="${PIPELINE_FROM:-2026-01-01T00:00:00Z}"
PIPELINE_SEED="${PIPELINE_SEED:-2026}"

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "2/5 bootstrap: database, migrations, city tables, topics, schemas"
pnpm -s --filter bootstrap start

step "3/5 sensor-producer: $PIPELINE_COUNT readings per station (CYWG Winnipeg, CYVR Vancouver)"
pnpm -s --filter sensor-producer start \
  --stations CYWG,CYVR --count "$PIPELINE_COUNT" --from "$PIPELINE_FROM" --step 1h --seed "$PIPELINE_SEED"

step "4/5 pg-sink: consuming until caught up"
pnpm -s --filter pg-sink start --until-caught-up

step "5/5 report: what PostgreSQL holds"
pnpm -s --filter report start
