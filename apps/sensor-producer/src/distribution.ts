import { parseDurationMs } from "@weather/settings";
import { z } from "zod";
import type { Prng } from "./prng.ts";

/**
 * A distribution of durations, for how late a reading arrives, how long a station stays silent,
 * how long before a re-send. Written as settings are: `fixed:5m`, `uniform:1m..1h`,
 * `exponential:10m` (the mean; many short, a few long), `lognormal:10m:1` (the median and the
 * sigma of the logarithm; a heavy tail, as real network and station delays have).
 */
export type Distribution =
  | { readonly kind: "fixed"; readonly ms: number }
  | { readonly kind: "uniform"; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: "exponential"; readonly meanMs: number }
  | { readonly kind: "lognormal"; readonly medianMs: number; readonly sigma: number };

export const DISTRIBUTION_HELP = "expected fixed:5m, uniform:1m..1h, exponential:10m or lognormal:10m:1";

/** The distribution a text describes, or undefined when it describes none. */
export function parseDistribution(text: string): Distribution | undefined {
  const [kind, ...rest] = text.trim().split(":");
  const argument = rest.join(":");
  switch (kind) {
    case "fixed": {
      const ms = parseDurationMs(argument);
      return ms === undefined ? undefined : { kind, ms };
    }
    case "uniform": {
      const [from, to] = argument.split("..");
      const minMs = parseDurationMs(from ?? "");
      const maxMs = parseDurationMs(to ?? "");
      return minMs === undefined || maxMs === undefined || maxMs < minMs ? undefined : { kind, minMs, maxMs };
    }
    case "exponential":
    case "exp": {
      const meanMs = parseDurationMs(argument);
      return meanMs === undefined || meanMs <= 0 ? undefined : { kind: "exponential", meanMs };
    }
    case "lognormal": {
      const [median, sigmaText] = argument.split(":");
      const medianMs = parseDurationMs(median ?? "");
      const sigma = Number(sigmaText);
      return medianMs === undefined ||
        medianMs <= 0 ||
        !Number.isFinite(sigma) ||
        sigma < 0 ||
        sigmaText === ""
        ? undefined
        : { kind, medianMs, sigma };
    }
    default:
      return undefined;
  }
}

/** The distribution as settings write it. */
export function describeDistribution(distribution: Distribution): string {
  switch (distribution.kind) {
    case "fixed":
      return `fixed:${distribution.ms}ms`;
    case "uniform":
      return `uniform:${distribution.minMs}ms..${distribution.maxMs}ms`;
    case "exponential":
      return `exponential:${distribution.meanMs}ms`;
    case "lognormal":
      return `lognormal:${distribution.medianMs}ms:${distribution.sigma}`;
  }
}

/** One draw, in whole milliseconds, never negative. */
export function sampleMs(distribution: Distribution, prng: Prng): number {
  switch (distribution.kind) {
    case "fixed":
      return distribution.ms;
    case "uniform":
      return Math.round(distribution.minMs + prng.next() * (distribution.maxMs - distribution.minMs));
    case "exponential":
      // 1 - next() is in (0, 1], so the logarithm is finite.
      return Math.round(-distribution.meanMs * Math.log(1 - prng.next()));
    case "lognormal":
      return Math.round(distribution.medianMs * Math.exp(distribution.sigma * prng.normal()));
  }
}

/** The schema of a distribution setting. */
export const distributionSchema = z.string().transform((text, context) => {
  const distribution = parseDistribution(text);
  if (distribution === undefined) {
    context.addIssue({ code: "custom", message: DISTRIBUTION_HELP });
    return z.NEVER;
  }
  return distribution;
});
