import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type CpuGroup, createCpuGroup, detectCpuLimiter, withCpuGroups } from "./cgroup.ts";

const probe = detectCpuLimiter();
const limiter = "limiter" in probe ? probe.limiter : undefined;
if (limiter === undefined) console.log(`cgroup tests skipped: ${"problem" in probe ? probe.problem : ""}`);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(50);
  return condition();
}

describe("detectCpuLimiter", () => {
  it("finds a cgroup version the bench may write, or says in one line why none", () => {
    if ("limiter" in probe) {
      expect(["v1", "v2"]).toContain(probe.limiter.version);
      expect(existsSync(probe.limiter.parent)).toBe(true);
    } else {
      expect(probe.problem).toMatch(/cgroup v1: .*; cgroup v2: /);
    }
  });

  it("says what it found for v1 when there is no v1 hierarchy, then tries v2", () => {
    const elsewhere = detectCpuLimiter("/nonexistent");
    if ("limiter" in elsewhere) expect(elsewhere.limiter.version).toBe("v2");
    else expect(elsewhere.problem).toMatch(/^cgroup v1: no cpu hierarchy at \/nonexistent\/cpu; cgroup v2: /);
  });
});

describe.skipIf(limiter === undefined)("CPU groups", () => {
  const cpuLimiter = limiter as NonNullable<typeof limiter>;

  it("hold a busy process to its quota: the kernel throttles it", async () => {
    await withCpuGroups(cpuLimiter, 1, 0.1, async ([group]) => {
      const busy = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
      try {
        (group as CpuGroup).add(busy.pid as number);
        expect(await until(() => (group as CpuGroup).throttling().throttledPeriods > 0)).toBe(true);
      } finally {
        busy.kill("SIGKILL");
      }
    });
  });

  it("are removed, and their processes stopped, when the work fails", async () => {
    let paths: string[] = [];
    let pid = 0;
    await expect(
      withCpuGroups(cpuLimiter, 2, 0.2, async (groups) => {
        paths = groups.map((g) => g.path);
        const child = spawn("sleep", ["300"], { stdio: "ignore" });
        pid = child.pid as number;
        groups[1]?.add(pid);
        throw new Error("the drain failed");
      }),
    ).rejects.toThrow("the drain failed");
    expect(paths).toHaveLength(2);
    for (const path of paths) expect(existsSync(path), path).toBe(false);
    expect(await until(() => !isAlive(pid))).toBe(true);
  });

  it("are removed at exit when nobody removed them", async () => {
    const script = `
      import { createCpuGroup } from ${JSON.stringify(fileURLToPath(new URL("./cgroup.ts", import.meta.url)))};
      const group = createCpuGroup(${JSON.stringify(cpuLimiter)}, 0.2);
      console.log(group.path);
      process.exit(3);`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(3);
    const path = output.trim();
    expect(path).toContain("weather-bench-");
    expect(existsSync(path)).toBe(false);
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`are removed, and the bench's processes in them stopped, on ${signal}`, async () => {
      const fixture = fileURLToPath(new URL("./cgroup.fixture.ts", import.meta.url));
      const child = spawn(process.execPath, [fixture], { stdio: ["ignore", "pipe", "inherit"] });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      expect(await until(() => output.includes("\n"))).toBe(true);
      const made = JSON.parse(output) as { paths: string[]; pid: number };
      for (const path of made.paths) expect(existsSync(path)).toBe(true);
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill(signal);
      expect(await exited).toBe(130);
      for (const path of made.paths) expect(existsSync(path), path).toBe(false);
      expect(await until(() => !isAlive(made.pid))).toBe(true);
    });
  }

  it("leave nothing behind once removed", () => {
    const group = createCpuGroup(cpuLimiter, 0.3);
    expect(existsSync(group.path)).toBe(true);
    group.remove();
    group.remove();
    expect(existsSync(group.path)).toBe(false);
  });
});
