import { collectDefaultMetrics, Registry } from "prom-client";

/** A registry of its own, so tests and several producers in one process never share counters. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
