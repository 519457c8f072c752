# syntax=docker/dockerfile:1
# One image per worker, all from this file: the worker is a build argument.
#   docker build --build-arg APP=pg-sink -t weather/pg-sink .      (context: the repository root)
# APP is one of bootstrap, sensor-producer, pg-sink, report, dashboard. The image holds what
# `pnpm --filter <APP> --prod deploy` produces: compiled JavaScript and production dependencies
# only, run by plain node as an unprivileged user. Health checks of the workers that serve HTTP
# (pg-sink's /healthz, the dashboard's) are declared where they run: docker-compose.yml.
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
ARG APP
RUN test -n "$APP" || { echo "build with --build-arg APP=<bootstrap|sensor-producer|pg-sink|report|dashboard>" >&2; exit 2; }
# The pnpm of package.json's "packageManager" (infra/test/compose.test.ts keeps them equal).
RUN npm install --global --no-fund --no-audit pnpm@10.34.9
WORKDIR /repo
COPY . .
# Only this worker and the workspace packages it needs (and the root's build tools).
RUN pnpm install --frozen-lockfile --filter "${APP}..." --filter "weather-streaming"
RUN pnpm --filter "${APP}..." run build
RUN pnpm --filter "${APP}" --prod deploy --offline /deploy

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the user the worker runs as.
COPY --from=build /deploy /app
USER node
CMD ["node", "dist/main.js"]
