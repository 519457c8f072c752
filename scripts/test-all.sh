#!/usr/bin/env bash
# The whole test suite, from nothing: Node 24 and pnpm where missing, dependencies, the local
# stack (downloaded once), then `turbo run lint test` against it, then the reliability suite
# (`turbo run test:reliability`), then the three-broker scenarios (`turbo run test:cluster`, on a
# cluster of their own). Stops only the services this run started, so a developer's
# running stack is left as it was. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/toolchain.sh
ensure_toolchain

started_file="$(mktemp)"
cleanup() {
  say "stopping the services this run started: $(tr '\n' ' ' < "$started_file")"
  pnpm -s stack down --only-from "$started_file" || true
  rm -f "$started_file"
}
trap cleanup EXIT

say "bringing the local stack up"
pnpm -s stack up --started-file "$started_file"

find . -path ./.stack -prune -o -path ./.tools -prune -o -name node_modules -prune -o -path '*/reports/vitest*.json' -print0 | xargs -0 rm -f
say "running: turbo run lint test"
status=0
pnpm exec turbo run lint test --continue --output-logs=new-only --log-order=grouped || status=$?
# Only after the fast tests, never beside them: the reliability suite stops and restarts the
# stack's Kafka and registry, which would break any test running at the same moment.
say "running: turbo run test:reliability"
pnpm exec turbo run test:reliability --output-logs=new-only --log-order=grouped || status=$?
# Last, and alone: the three-broker scenarios start a Kafka cluster of their own (ports 19092-19100,
# .stack/cluster), kill and restart its nodes under load, and stop it again.
say "running: turbo run test:cluster"
pnpm exec turbo run test:cluster --output-logs=new-only --log-order=grouped || status=$?
summary_status=0
node --conditions=@weather/source scripts/test-summary.ts || summary_status=$?
[ "$status" -eq 0 ] && status=$summary_status
exit "$status"
