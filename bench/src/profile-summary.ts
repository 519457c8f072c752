import { readFileSync } from "node:fs";

/**
 * Where a `node --cpu-prof` profile's time went: self time per function and per area (the
 * product's modules, each library, garbage collection, idle). Run on pg-sink's profiles from
 * `BENCH_CPU_PROF_DIR=… pnpm bench`:
 *   node bench/src/profile-summary.ts <file.cpuprofile> [rows] [write-chunk.ts]
 * (the last argument counts only the drain: from the first to the last sample under that file).
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface ProfileShare {
  readonly name: string;
  readonly ms: number;
  /** Of the busy (non-idle) time. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly areas: readonly ProfileShare[];
  readonly functions: readonly ProfileShare[];
}

/** The area a frame belongs to: a library by its package, the product's files by their module. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(idle)") return "idle";
  if (functionName === "(program)") return "(program: V8/native outside JS)";
  if (url === "") return "native/builtins";
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pnpm?.[1] !== undefined) return pnpm[1];
  const workspace = /\/(apps|packages)\/([^/]+)\/src\/([^/]+)\.ts$/.exec(url);
  if (workspace !== undefined && workspace !== null) return `${workspace[2]}/${workspace[3]}`;
  if (url.startsWith("node:")) return "node core";
  return url;
}

/**
 * Self time per node. With `windowFrom`, only samples between the first and the last one whose
 * stack holds a frame from that file count: for pg-sink, the drain without start-up and shutdown.
 */
export function summarizeProfile(profile: CpuProfile, windowFrom?: string): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const inWindowFile = (id: number): boolean => {
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      if (windowFrom !== undefined && byId.get(at)?.callFrame.url.endsWith(windowFrom)) return true;
    }
    return false;
  };
  let first = 0;
  let last = profile.samples.length - 1;
  if (windowFrom !== undefined) {
    while (first <= last && !inWindowFile(profile.samples[first] as number)) first++;
    while (last >= first && !inWindowFile(profile.samples[last] as number)) last--;
  }
  const selfMs = new Map<number, number>();
  for (let i = first; i <= last; i++) {
    const id = profile.samples[i] as number;
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let idleMs = 0;
  let totalMs = 0;
  for (const [id, ms] of selfMs) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    totalMs += ms;
    const area = areaOf(frame);
    if (area === "idle") {
      idleMs += ms;
      continue;
    }
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const file = frame.url.split("/").at(-1) ?? "";
    const name = `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
  }
  const busy = totalMs - idleMs;
  const shares = (map: Map<string, number>) =>
    [...map.entries()]
      .map(([name, ms]) => ({ name, ms, share: busy > 0 ? ms / busy : 0 }))
      .sort((a, b) => b.ms - a.ms);
  return { totalMs, idleMs, areas: shares(areas), functions: shares(functions) };
}

function print(summary: ProfileSummary, rows: number): void {
  const line = (s: ProfileShare) =>
    `${s.ms.toFixed(0).padStart(8)} ms ${(s.share * 100).toFixed(1).padStart(5)} %  ${s.name}`;
  console.log(
    `profiled ${summary.totalMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms, busy ${(summary.totalMs - summary.idleMs).toFixed(0)} ms`,
  );
  console.log("\nby area (self time, share of busy time):");
  for (const area of summary.areas.slice(0, rows)) console.log(line(area));
  console.log("\nby function:");
  for (const fn of summary.functions.slice(0, rows)) console.log(line(fn));
}

if (import.meta.main) {
  const [file, rows, windowFrom] = process.argv.slice(2);
  if (file === undefined) {
    console.error(
      "usage: node bench/src/profile-summary.ts <file.cpuprofile> [rows] [window-file, e.g. write-chunk.ts]",
    );
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  print(summarizeProfile(profile, windowFrom), Number(rows ?? 25));
}
