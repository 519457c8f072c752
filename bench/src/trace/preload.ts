import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Socket } from "node:net";
import { MEMORY_SAMPLE_MS, TraceRecorder } from "./recorder.ts";

/**
 * Loaded into a worker the bench starts (`node --import <this file>`) when BENCH_TRACE_FILE is
 * set: records what the worker does (see TraceRecorder) without a line of the worker changed, and
 * writes it to that file as JSON when the process exits. It hooks three places:
 * - kafkajs's Kafka.prototype.consumer/producer (the module the worker itself resolves, so the
 *   same instance), to listen to each client's instrumentation events (and, for tuning
 *   experiments only, to merge BENCH_SINK_KAFKAJS into a consumer's options);
 * - net.Socket's connect and write, to follow the bytes of connections to PostgreSQL's port (from
 *   DATABASE_URL), both ways;
 * - a timer sampling process.memoryUsage() every MEMORY_SAMPLE_MS, the heap after each full
 *   collection, and the event loop's delay.
 * The cost is a few microseconds per request, batch and socket write, and one sample per 100 ms.
 */
const TRACED_WRITE = Symbol("bench trace: written");

type TracedSocket = Socket & { [TRACED_WRITE]?: (chunk: Buffer) => void };
type ClientFactory = (this: unknown, ...args: unknown[]) => Parameters<TraceRecorder["traceKafka"]>[0];

/** The port a Socket.connect call names: (port, host), (options) or net.connect's normalized [options, cb]. */
function portOf(args: readonly unknown[]): number | undefined {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof first === "number" || typeof first === "string") return Number(first);
  if (typeof first === "object" && first !== null && "port" in first) return Number(first.port);
  return undefined;
}

/** BENCH_SINK_KAFKAJS: kafkajs consumer options to try, merged over the worker's own (see config.ts). */
function consumerOverrides(): Record<string, unknown> {
  const text = process.env.BENCH_SINK_KAFKAJS;
  return text === undefined || text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}

function traceKafkajs(recorder: TraceRecorder): void {
  let kafkajs: { Kafka: { prototype: Record<string, ClientFactory> } };
  try {
    kafkajs = createRequire(`${process.cwd()}/`)("kafkajs");
  } catch {
    return; // no kafkajs where the worker runs
  }
  const prototype = kafkajs.Kafka.prototype;
  const overrides = consumerOverrides();
  for (const method of ["consumer", "producer"]) {
    const create = prototype[method];
    if (create === undefined) continue;
    prototype[method] = function (this: unknown, ...args: unknown[]) {
      if (method === "consumer") args[0] = { ...(args[0] as object), ...overrides };
      const client = create.apply(this, args);
      recorder.traceKafka(client);
      return client;
    };
  }
}

function tracePostgresSockets(recorder: TraceRecorder, port: number): void {
  const prototype = Socket.prototype as TracedSocket & Record<"connect" | "write", unknown>;
  const connect = Socket.prototype.connect as (this: Socket, ...args: unknown[]) => Socket;
  prototype.connect = function (this: TracedSocket, ...args: unknown[]) {
    if (portOf(args) === port) this[TRACED_WRITE] = recorder.tracePostgres(this);
    return connect.apply(this, args);
  };
  const write = Socket.prototype.write as (this: Socket, ...args: unknown[]) => boolean;
  prototype.write = function (this: TracedSocket, chunk: unknown, ...rest: unknown[]) {
    const traced = this[TRACED_WRITE];
    if (traced !== undefined) traced(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
    return write.call(this, chunk, ...rest);
  };
}

function install(file: string): void {
  const recorder = new TraceRecorder();
  traceKafkajs(recorder);
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl !== undefined) tracePostgresSockets(recorder, Number(new URL(databaseUrl).port || 5432));
  recorder.sampleMemory();
  setInterval(() => recorder.sampleMemory(), MEMORY_SAMPLE_MS).unref();
  const runtime = recorder.watchRuntime();
  process.on("exit", () => {
    runtime.finish();
    recorder.sampleMemory();
    writeFileSync(file, JSON.stringify(recorder.trace));
  });
}

const file = process.env.BENCH_TRACE_FILE;
if (file !== undefined && file !== "") install(file);
