import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** A Java runtime the stack can start a service with. */
export interface JavaRuntime {
  readonly executable: string;
  readonly major: number;
}

/** Reads the major version a `java -version` prints ("17.0.15", "25.0.1", "1.8.0_402"). */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match?.[1]) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] ? Number(match[2]) : first;
}

function probe(executable: string): JavaRuntime | undefined {
  const result = spawnSync(executable, ["-version"], { encoding: "utf8", timeout: 15_000 });
  if (result.error || result.status !== 0) return undefined;
  const major = parseJavaMajor(`${result.stderr}${result.stdout}`);
  return major === undefined ? undefined : { executable, major };
}

/**
 * Where a JDK might be, most specific first: a home named for this purpose, JAVA_HOME, the `java`
 * on PATH, then every JDK installed side by side under /usr/lib/jvm (Debian's layout).
 */
function candidates(preferredHomeVariable: string | undefined): string[] {
  const homes = [
    preferredHomeVariable ? process.env[preferredHomeVariable] : undefined,
    process.env.JAVA_HOME,
  ]
    .filter((home): home is string => Boolean(home))
    .map((home) => join(home, "bin", "java"));
  const installed = existsSync("/usr/lib/jvm")
    ? readdirSync("/usr/lib/jvm")
        .sort()
        .reverse()
        .map((dir) => join("/usr/lib/jvm", dir, "bin", "java"))
        .filter((path) => existsSync(path))
    : [];
  return [...homes, "java", ...installed];
}

/**
 * Finds the first Java runtime of at least `minMajor`, or explains what was found instead.
 * Apicurio Registry 3.3 is built for Java 21 while Kafka runs on 17, so the two may differ.
 */
export function findJava(
  minMajor: number,
  preferredHomeVariable?: string,
): { runtime: JavaRuntime } | { problem: string } {
  const seen: string[] = [];
  for (const executable of new Set(candidates(preferredHomeVariable))) {
    const runtime = probe(executable);
    if (runtime && runtime.major >= minMajor) return { runtime };
    seen.push(runtime ? `${executable} (Java ${runtime.major})` : `${executable} (does not run)`);
  }
  const where = preferredHomeVariable ? `set ${preferredHomeVariable} or JAVA_HOME` : "set JAVA_HOME";
  return {
    problem:
      `needs Java ${minMajor} or newer; found: ${seen.join(", ") || "none"}. ` +
      `Install a JDK ${minMajor}+ (e.g. Temurin) and ${where} to its home`,
  };
}
