import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** infra/ itself: where the committed pom and logging configuration live. */
export const INFRA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_ROOT = resolve(INFRA_DIR, "..");

/**
 * Everything the stack writes lives under one gitignored folder (STACK_DIR, default .stack/):
 * downloads (cached between runs), each service's data, its log and its pid file.
 */
export interface StackPaths {
  readonly root: string;
  readonly downloads: string;
  readonly data: string;
  readonly logs: string;
  readonly run: string;
  /** Keys, certificates, passwords and tokens (mode 0700, each file 0600); see secrets.ts. */
  readonly secrets: string;
}

/**
 * `downloads` may lie elsewhere: a second stack (the cluster the reliability suite starts beside
 * the shared one) keeps its own data, logs and pids but shares the first one's downloads.
 */
export function stackPaths(
  root = process.env.STACK_DIR ?? join(REPO_ROOT, ".stack"),
  downloads?: string,
): StackPaths {
  const absolute = resolve(root);
  return Object.freeze({
    root: absolute,
    downloads: resolve(downloads ?? join(absolute, "downloads")),
    data: join(absolute, "data"),
    logs: join(absolute, "logs"),
    run: join(absolute, "run"),
    secrets: join(absolute, "secrets"),
  });
}
