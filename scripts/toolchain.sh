# shellcheck shell=bash
# Sourced by the other scripts: puts a Node.js >= 22.12 and the pnpm pinned in package.json on
# PATH, installing both from the npm registry under .tools/ where the machine's are missing or too
# old, then installs the workspace's dependencies. Safe to source again: a second run installs nothing.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$REPO_ROOT/.tools"
# The exact Node 24 LTS release installed when the machine's Node is older; .nvmrc names the line.
# 22.18 is the first 22.x that runs .ts files without a flag (engines allows 22.12 for libraries
# that only import the built packages).
NODE_PIN="24.21.0"
MIN_NODE_MAJOR=22
MIN_NODE_MINOR=18

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# npm prints nothing while it downloads (tens of MB for Node): say every 15 s that it still works.
npm_install_into_tools() {
  local started=$SECONDS
  ( while sleep 15; do say "still installing $* ($((SECONDS - started)) s)"; done ) &
  local heartbeat=$! status=0
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --prefer-offline --loglevel=error "$@" >&2 || status=$?
  kill "$heartbeat" 2>/dev/null
  wait "$heartbeat" 2>/dev/null
  return "$status"
}
die() { printf '\033[31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

node_is_recent() {
  local v
  v="$("$1" -v 2>/dev/null)" || return 1
  v="${v#v}"
  local major="${v%%.*}" rest="${v#*.}"
  local minor="${rest%%.*}"
  [ "$major" -gt "$MIN_NODE_MAJOR" ] || { [ "$major" -eq "$MIN_NODE_MAJOR" ] && [ "$minor" -ge "$MIN_NODE_MINOR" ]; }
}

ensure_toolchain() {
  command -v node >/dev/null || die "no Node.js on PATH; install Node.js >= 20 (any version; Node 24 is fetched from it), then run this again"
  command -v npm >/dev/null || die "no npm on PATH; it ships with Node.js, reinstall Node.js"

  local pnpm_version
  pnpm_version="$(node -p "require('$REPO_ROOT/package.json').packageManager.split('@')[1]")" \
    || die "cannot read packageManager from $REPO_ROOT/package.json"

  # Prefer what .tools already holds; otherwise the machine's Node when recent enough.
  if [ -x "$TOOLS_DIR/node_modules/.bin/node" ] && node_is_recent "$TOOLS_DIR/node_modules/.bin/node"; then
    export PATH="$TOOLS_DIR/node_modules/.bin:$PATH"
  elif ! node_is_recent node; then
    say "Node $(node -v) is older than $MIN_NODE_MAJOR.$MIN_NODE_MINOR: installing Node $NODE_PIN and pnpm $pnpm_version into .tools/"
    mkdir -p "$TOOLS_DIR"
    [ -f "$TOOLS_DIR/package.json" ] || echo '{"private":true}' > "$TOOLS_DIR/package.json"
    npm_install_into_tools "node@$NODE_PIN" "pnpm@$pnpm_version" \
      || die "npm could not install node@$NODE_PIN into $TOOLS_DIR; check the npm registry is reachable (npm ping)"
    node_is_recent "$TOOLS_DIR/node_modules/.bin/node" \
      || die "the node@$NODE_PIN package installed but its binary does not run ($TOOLS_DIR/node_modules/.bin/node); remove $TOOLS_DIR and retry"
    export PATH="$TOOLS_DIR/node_modules/.bin:$PATH"
  fi

  if [ "$(pnpm -v 2>/dev/null)" != "$pnpm_version" ]; then
    if [ ! -x "$TOOLS_DIR/node_modules/.bin/pnpm" ] || [ "$("$TOOLS_DIR/node_modules/.bin/pnpm" -v)" != "$pnpm_version" ]; then
      say "installing pnpm $pnpm_version into .tools/"
      mkdir -p "$TOOLS_DIR"
      [ -f "$TOOLS_DIR/package.json" ] || echo '{"private":true}' > "$TOOLS_DIR/package.json"
      npm_install_into_tools "pnpm@$pnpm_version" \
        || die "npm could not install pnpm@$pnpm_version into $TOOLS_DIR"
    fi
    case ":$PATH:" in *":$TOOLS_DIR/node_modules/.bin:"*) ;; *) export PATH="$TOOLS_DIR/node_modules/.bin:$PATH" ;; esac
  fi
  say "using node $(node -v), pnpm $(pnpm -v)"

  # Lets turbo and vitest find the same Node when pnpm runs them.
  export COREPACK_ENABLE_STRICT=0
  # turbo would otherwise try to send usage telemetry from a machine that may have no internet.
  export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
  # CI installs exactly the lockfile; a developer's run may update it after a package.json edit.
  local lockfile_flag="--no-frozen-lockfile"
  [ "${CI:-}" = "true" ] && lockfile_flag="--frozen-lockfile"
  (cd "$REPO_ROOT" && pnpm install "$lockfile_flag" --prefer-offline --reporter=append-only >&2) \
    || die "pnpm install failed (see above); if pnpm-lock.yaml is out of date, run pnpm install and commit it"
}
