import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { StackError } from "./stack-error.ts";

/**
 * nginx, from Debian's packages, for the registry's TLS proxy (`pnpm stack up --secure`). Found as
 * STACK_NGINX, else `nginx` on PATH, else /usr/sbin/nginx (root's PATH only, on Debian). When
 * missing, the stack installs Debian's `nginx` package with apt-get if it runs as root, showing
 * apt's progress; otherwise it says what to install. 1.19.5 or newer (for -e, the startup log).
 */
const PACKAGE = "nginx";
const MIN_VERSION = [1, 19, 5] as const;

export interface Nginx {
  readonly executable: string;
  readonly version: string;
}

function versionOf(executable: string): string | undefined {
  const result = spawnSync(executable, ["-v"], { encoding: "utf8", timeout: 10_000 });
  if (result.error || result.status !== 0) return undefined;
  return /nginx\/(\d+\.\d+\.\d+)/.exec(`${result.stderr}${result.stdout}`)?.[1];
}

function newEnough(version: string): boolean {
  const parts = version.split(".").map(Number);
  for (const [index, min] of MIN_VERSION.entries()) {
    const part = parts[index] ?? 0;
    if (part !== min) return part > min;
  }
  return true;
}

function findNginx(env: Readonly<Record<string, string | undefined>>, service: string): Nginx | undefined {
  const chosen = env.STACK_NGINX?.trim();
  const candidates = chosen ? [chosen] : ["nginx", "/usr/sbin/nginx"];
  for (const executable of candidates) {
    const version = versionOf(executable);
    if (version === undefined) continue;
    if (!newEnough(version)) {
      throw new StackError(
        service,
        `${executable} is nginx ${version}; the registry's proxy needs ${MIN_VERSION.join(".")} or newer`,
        undefined,
        "install a newer one (apt-get install nginx on Debian 12 or later) or set STACK_NGINX to one",
      );
    }
    return { executable, version };
  }
  if (chosen) {
    throw new StackError(
      service,
      `STACK_NGINX=${chosen} does not run as nginx (nginx -v failed)`,
      undefined,
      "point STACK_NGINX at an nginx binary, or unset it to use the one on PATH",
    );
  }
  return undefined;
}

/** Runs apt-get, its lines of progress (downloads, unpacking, set-up) relayed to `log`. */
function aptGet(
  args: readonly string[],
  log: (message: string) => void,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("apt-get", ["-o", "DPkg::Lock::Timeout=120", ...args], {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const relay = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      for (const line of text.split("\n")) {
        if (/^(Get:|Unpacking|Setting up|Fetched|E:)/.test(line.trim())) log(`  apt-get: ${line.trim()}`);
      }
    };
    child.stdout.on("data", relay);
    child.stderr.on("data", relay);
    child.on("error", (error) => resolve({ code: null, output: error.message }));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

/** nginx, installed first if it is missing and the stack may install it; else a clear refusal. */
export async function ensureNginx(
  service: string,
  env: Readonly<Record<string, string | undefined>>,
  log: (message: string) => void,
): Promise<Nginx> {
  const found = findNginx(env, service);
  if (found) return found;
  const hint =
    "install Debian's nginx (sudo apt-get install nginx, or nginx-light), or set STACK_NGINX to an nginx " +
    `${MIN_VERSION.join(".")}+ binary; then run pnpm stack up --secure again`;
  const root = process.getuid?.() === 0;
  if (!root || !existsSync("/usr/bin/apt-get")) {
    throw new StackError(
      service,
      `nginx is not installed, and the stack can install it only as root on a Debian-like system (apt-get)`,
      undefined,
      hint,
    );
  }
  log(
    `${service}: nginx is not installed; installing Debian's ${PACKAGE} package (apt-get install ${PACKAGE})`,
  );
  let result = await aptGet(["install", "-y", "--no-install-recommends", PACKAGE], log);
  if (result.code !== 0 && /Unable to locate package|has no installation candidate|404/.test(result.output)) {
    log(`${service}: apt's package lists are missing or stale; running apt-get update first`);
    const update = await aptGet(["update"], log);
    if (update.code === 0) result = await aptGet(["install", "-y", "--no-install-recommends", PACKAGE], log);
  }
  const installed = result.code === 0 ? findNginx(env, service) : undefined;
  if (!installed) {
    const tail = result.output.trim().split("\n").slice(-5).join("\n");
    throw new StackError(service, `installing nginx with apt-get failed:\n${tail}`, undefined, hint);
  }
  log(`${service}: installed nginx ${installed.version} (${installed.executable})`);
  return installed;
}
