import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Debian's Chromium, or the browser CHROMIUM_PATH names. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH?.trim() || "/usr/bin/chromium";

/**
 * Launch flags that work in a sandboxless container on a closed network: without the background
 * networking flags Chromium keeps trying to reach Google's services, and those connections are
 * refused here. Each launch also gets a fresh, empty --user-data-dir (see launchChromium).
 */
export const CHROMIUM_ARGS = Object.freeze([
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
]);

const PACKAGES = ["chromium", "fonts-dejavu-core"];

function aptGet(args: readonly string[]) {
  return spawnSync("apt-get", ["-o", "DPkg::Lock::Timeout=300", ...args], {
    encoding: "utf8",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    timeout: 15 * 60_000,
  });
}

/**
 * vitest globalSetup: makes sure a Chromium is there before any browser test runs. When Debian's
 * package is missing and we are root (CI, the project's machines), it is installed with apt-get,
 * once per machine; otherwise the run stops here saying how to get one.
 */
export default function ensureChromium(): void {
  if (existsSync(CHROMIUM_PATH)) return;
  if (process.env.CHROMIUM_PATH?.trim()) {
    throw new Error(`CHROMIUM_PATH=${CHROMIUM_PATH} does not exist; point it at a Chromium or Chrome binary`);
  }
  if (process.getuid?.() !== 0) {
    throw new Error(
      `the browser tests need Chromium at ${CHROMIUM_PATH}; install Debian's package as root (apt-get install -y ${PACKAGES.join(" ")}) or set CHROMIUM_PATH to a Chromium or Chrome binary`,
    );
  }
  const started = Date.now();
  console.log(
    `browser tests: ${CHROMIUM_PATH} is missing; installing Debian's ${PACKAGES.join(", ")} with apt-get (once per machine)`,
  );
  let install = aptGet(["install", "-y", "--no-install-recommends", ...PACKAGES]);
  if (install.status !== 0) {
    // A fresh machine may have no package lists yet, or stale ones.
    const update = aptGet(["update"]);
    if (update.status !== 0)
      throw new Error(`apt-get update failed:\n${update.stderr || update.error?.message}`);
    install = aptGet(["install", "-y", "--no-install-recommends", ...PACKAGES]);
  }
  if (install.status !== 0 || !existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `apt-get install ${PACKAGES.join(" ")} failed (exit ${install.status}); install it by hand as root and run again:\n${install.stderr || install.error?.message}`,
    );
  }
  console.log(`browser tests: chromium installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
