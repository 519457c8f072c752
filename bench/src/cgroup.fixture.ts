import { spawn } from "node:child_process";
import { createCpuGroup, detectCpuLimiter } from "./cgroup.ts";
import { exitCleanlyOnInterrupt } from "./interrupt.ts";

// For cgroup.test.ts: does what the cluster suite does (groups, a process of its own in one),
// prints what it made, and waits to be interrupted like the bench.
const probe = detectCpuLimiter();
if (!("limiter" in probe)) throw new Error(probe.problem);
exitCleanlyOnInterrupt(() => {});
const groups = [createCpuGroup(probe.limiter, 0.2), createCpuGroup(probe.limiter, 0.2)];
const child = spawn("sleep", ["300"], { stdio: "ignore" });
if (child.pid === undefined) throw new Error("cannot start sleep");
groups[0]?.add(child.pid);
console.log(JSON.stringify({ paths: groups.map((g) => g.path), pid: child.pid }));
setInterval(() => {}, 1_000);
