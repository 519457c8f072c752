# syntax=docker/dockerfile:1
# (COPY --parents needs Dockerfile syntax 1.20 or later: docker/dockerfile:1 is.)
# One image per worker, all from this file: the worker is a build argument.
#   docker build --build-arg APP=pg-sink -t weather/pg-sink .      (context: the repository root)
# APP is one of bootstrap, sensor-producer, pg-sink, report, dashboard. The image holds what
# `pnpm --filter <APP> --prod deploy` produces: compiled JavaScript and production dependencies
# only, run by plain node as an unprivileged user. Health checks of the workers that serve HTTP
# (pg-sink's /healthz, the dashboard's) are declared where they run: docker-compose.yml.
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
# The pnpm of package.json's "packageManager" (infra/test/compose.test.ts keeps them equal).
RUN npm install --global --no-fund --no-audit pnpm@10.34.9
WORKDIR /repo
# Dependencies first, from what pnpm reads to install them: every workspace member's package.json
# (the globs of pnpm-workspace.yaml, each manifest kept in its folder by --parents), the lockfile,
# the workspace file and the patches it applies. The install below is cached until one of those
# changes; a source edit only reruns the steps after `COPY . .`. infra/test/compose.test.ts holds
# this order and these globs to pnpm-workspace.yaml.
COPY --parents package.json pnpm-lock.yaml pnpm-workspace.yaml patches apps/*/package.json packages/*/package.json infra/package.json tests/*/package.json bench/package.json ./
ARG APP
RUN test -n "$APP" || { echo "build with --build-arg APP=<bootstrap|sensor-producer|pg-sink|report|dashboard>" >&2; exit 2; }
# Only this worker and the workspace packages it needs (and the root's build tools). The workspace
# packages are linked, not copied (pnpm-workspace.yaml), so the sources copied next are theirs.
RUN pnpm install --frozen-lockfile --filter "${APP}..." --filter "weather-streaming"
COPY . .
RUN pnpm --filter "${APP}..." run build
RUN pnpm --filter "${APP}" --prod deploy --offline /deploy

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the user the worker runs as.
COPY --from=build /deploy /app
USER node
CMD ["node", "dist/main.js"]
