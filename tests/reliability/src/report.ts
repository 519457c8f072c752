/**
 * What a test did and what it counted, printed as it goes: the suite's output is the evidence,
 * not only its pass/fail line.
 */
export function report(test: string, ...lines: readonly string[]): void {
  console.log(lines.map((line) => `[${test}] ${line}`).join("\n"));
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Milliseconds since `start`, for "what happened when" lines. */
export function since(start: number): number {
  return performance.now() - start;
}
