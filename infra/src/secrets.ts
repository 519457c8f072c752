import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { StackPaths } from "./paths.ts";
import { StackError } from "./stack-error.ts";

/**
 * The stack's secrets folder (<STACK_DIR>/secrets, mode 0700): the CA and the certificates it
 * signed, Kafka's and the registry's passwords, the registry's token. Every file in it is 0600 and
 * holds one value; workers are pointed at the files, never handed the values.
 */
export function ensureSecretsDir(paths: StackPaths): string {
  mkdirSync(paths.secrets, { recursive: true, mode: 0o700 });
  chmodSync(paths.secrets, 0o700);
  return paths.secrets;
}

export function writeSecret(file: string, value: string): void {
  writeFileSync(file, value.endsWith("\n") ? value : `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** A secret file's value, without the trailing newline editors add. */
export function readSecret(file: string): string {
  return readFileSync(file, "utf8").trim();
}

/**
 * The value of `file`, made the first time as 24 random bytes in hex (a password or token that
 * needs no quoting anywhere: JAAS, nginx, a URL). An existing file is kept, so a value someone put
 * there on purpose (a rotated token) wins.
 */
export function ensureRandomSecret(file: string): string {
  if (!existsSync(file) || readSecret(file) === "") writeSecret(file, randomBytes(24).toString("hex"));
  return readSecret(file);
}

/**
 * Runs a tool the stack needs (openssl, a Kafka tool) to completion; a failure is the service's,
 * with the tool's own words. `input` goes to its standard input (secrets never on the command line).
 */
export function runTool(
  service: string,
  command: string,
  args: readonly string[],
  what: string,
  options: { input?: string; hint?: string; secrets?: readonly string[] } = {},
): string {
  const result = spawnSync(command, args, {
    encoding: "utf8",
    timeout: 60_000,
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
  if (result.error || result.status !== 0) {
    const missing = (result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
    // A tool may echo what it was given; a secret never reaches our message.
    const said = (options.secrets ?? [])
      .filter((secret) => secret !== "")
      .reduce(
        (text, secret) => text.replaceAll(secret, "***"),
        `${result.error?.message ?? ""}${result.stderr || result.stdout}`,
      );
    throw new StackError(
      service,
      missing ? `${what} failed: ${command} is not installed` : `${what} failed: ${said}`.trim(),
      undefined,
      options.hint,
    );
  }
  return result.stdout;
}
