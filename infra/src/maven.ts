import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tailOf } from "./daemon.ts";
import { StackError } from "./stack-error.ts";

/** The dependency plugin pinned: Maven 3.8's default one cannot copy or unpack what we need. */
export const DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.10.0";

export interface Download {
  /** The service the download belongs to, for messages. */
  readonly service: string;
  /** Folder the artifacts end up in; it is complete once its marker file names `version`. */
  readonly targetDir: string;
  /** What is being fetched, e.g. "kafka 4.1.1"; a different value fetches again. */
  readonly version: string;
  /** Arguments after `mvn -B`. */
  readonly mavenArgs: readonly string[];
  /** A file (relative to targetDir) whose presence proves the fetch really delivered. */
  readonly proof: string;
  readonly logFile: string;
  readonly log: (message: string) => void;
}

const COMPLETE_MARKER = ".complete";

export function isDownloaded(targetDir: string, version: string): boolean {
  try {
    return readFileSync(join(targetDir, COMPLETE_MARKER), "utf8").trim() === version;
  } catch {
    return false;
  }
}

/**
 * Fetches from Maven Central once: a later call with the same version returns at once. A run cut
 * off midway leaves no marker, so the next one starts the folder over instead of trusting half of it.
 */
export async function downloadOnce(download: Download): Promise<"cached" | "downloaded"> {
  if (isDownloaded(download.targetDir, download.version)) return "cached";
  rmSync(download.targetDir, { recursive: true, force: true });
  mkdirSync(download.targetDir, { recursive: true });
  download.log(`downloading ${download.version} from Maven Central (log: ${download.logFile})`);

  mkdirSync(dirname(download.logFile), { recursive: true });
  const logFd = openSync(download.logFile, "a");
  const started = Date.now();
  const heartbeat = setInterval(() => {
    download.log(`still downloading ${download.version} (${Math.round((Date.now() - started) / 1000)} s)`);
  }, 10_000);
  try {
    const exitCode = await new Promise<number | string>((resolve) => {
      // The dependency plugin skips an unpack when it finds a marker of an earlier one; outside a
      // project it keeps them under the working directory. Kept inside targetDir, they go with it.
      const markers = `-DmarkersDirectory=${join(download.targetDir, ".markers")}`;
      const mvn = spawn("mvn", ["-B", ...download.mavenArgs, markers], {
        cwd: download.targetDir,
        stdio: ["ignore", logFd, logFd],
      });
      mvn.on("error", (error) => resolve(error.message));
      mvn.on("exit", (code) => resolve(code ?? -1));
    });
    if (exitCode !== 0) {
      const cause =
        typeof exitCode === "string"
          ? `cannot run mvn (${exitCode})`
          : `mvn exited with ${exitCode} while fetching ${download.version}:\n${tailOf(download.logFile, 10)}`;
      throw new StackError(
        download.service,
        cause,
        download.logFile,
        "install Apache Maven and check Maven Central is reachable (mvn -v; ~/.m2/settings.xml for a mirror)",
      );
    }
  } finally {
    clearInterval(heartbeat);
    closeSync(logFd);
  }
  if (!existsSync(join(download.targetDir, download.proof))) {
    throw new StackError(
      download.service,
      `mvn finished but ${download.proof} is not in ${download.targetDir}:\n${tailOf(download.logFile, 10)}`,
      download.logFile,
      "run pnpm stack up again; if it repeats, fetch by hand with the command in the log",
    );
  }
  writeFileSync(join(download.targetDir, COMPLETE_MARKER), `${download.version}\n`);
  download.log(`downloaded ${download.version} in ${Math.round((Date.now() - started) / 1000)} s`);
  return "downloaded";
}
