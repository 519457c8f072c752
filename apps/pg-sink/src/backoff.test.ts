import { describe, expect, it } from "vitest";
import { backoffDelay, retryWithBackoff } from "./backoff.ts";

const policy = { initialMs: 100, maxMs: 1_000 };

describe("backoffDelay", () => {
  it("doubles from the initial delay and stops at the cap", () => {
    const full = () => 1;
    expect([0, 1, 2, 3, 4, 10, 100].map((a) => backoffDelay(a, policy, full))).toEqual([
      100, 200, 400, 800, 1_000, 1_000, 1_000,
    ]);
  });

  it("jitters within the upper half of the step", () => {
    expect(backoffDelay(2, policy, () => 0)).toBe(200);
    expect(backoffDelay(2, policy, () => 0.5)).toBe(300);
  });
});

describe("retryWithBackoff", () => {
  const fast = { initialMs: 1, maxMs: 2 };

  it("retries transient failures until the work succeeds, reporting each wait", async () => {
    let calls = 0;
    const waits: number[] = [];
    let recoveredAfter = 0;
    const result = await retryWithBackoff(
      async () => {
        calls++;
        if (calls < 4) throw new Error("down");
        return "ok";
      },
      {
        policy: fast,
        isTransient: () => true,
        onRetry: (_error, attempt) => {
          waits.push(attempt);
        },
        onRecovered: (attempts) => {
          recoveredAfter = attempts;
        },
      },
    );
    expect(result).toBe("ok");
    expect(waits).toEqual([0, 1, 2]);
    expect(recoveredAfter).toBe(3);
  });

  it("propagates a failure that is not transient at once", async () => {
    let calls = 0;
    const bug = new TypeError("bug");
    await expect(
      retryWithBackoff(
        async () => {
          calls++;
          throw bug;
        },
        { policy: fast, isTransient: () => false },
      ),
    ).rejects.toBe(bug);
    expect(calls).toBe(1);
  });

  it("stops waiting when aborted and throws the last error", async () => {
    const controller = new AbortController();
    const outage = new Error("still down");
    const pending = retryWithBackoff(
      async () => {
        throw outage;
      },
      { policy: { initialMs: 60_000, maxMs: 60_000 }, isTransient: () => true, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 10);
    await expect(pending).rejects.toBe(outage);
  });
});
