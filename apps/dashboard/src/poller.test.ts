import { createLogger } from "@weather/service-kit";
import { describe, expect, it } from "vitest";
import { type SourceState, startPoller } from "./poller.ts";

const logger = createLogger("poller-test", { level: "silent" });

/** Runs a poller over scripted answers and collects what it published. */
async function publishedOver(answers: readonly (number | Error | "slow")[], timeoutMs = 1_000) {
  const published: SourceState<number>[] = [];
  let calls = 0;
  let settle: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const poller = startPoller<number>({
    name: "test",
    intervalMs: 1,
    timeoutMs,
    poll: async () => {
      // Past the script, the last answer repeats.
      const answer = answers[Math.min(calls++, answers.length - 1)];
      if (calls >= answers.length) settle();
      if (answer === undefined) throw new Error("no answers scripted");
      // Answers, but three times too late, as a query on a server that stopped answering for a while.
      if (answer === "slow")
        return new Promise<number>((resolve) => setTimeout(() => resolve(-1), timeoutMs * 3));
      if (answer instanceof Error) throw answer;
      return answer;
    },
    describeError: (error) => `described: ${(error as Error).message}`,
    onChange: (state) => published.push(state),
    logger,
  });
  await done;
  // Let the last answer be published, then stop.
  await new Promise((resolve) => setTimeout(resolve, timeoutMs + 50));
  await poller.stop();
  return published;
}

describe("startPoller", () => {
  it("publishes data, then the reason when the source fails, keeping the last data, then recovers", async () => {
    const published = await publishedOver([1, 1, new Error("ECONNREFUSED"), new Error("ECONNREFUSED"), 2]);
    expect(published.map((s) => [s.status, s.data, s.error])).toEqual([
      ["ok", 1, null],
      ["unavailable", 1, "described: ECONNREFUSED"],
      ["ok", 2, null],
    ]);
    expect(published[1]?.since).not.toBe(published[0]?.since);
  });

  it("counts a refresh that does not answer in time as a failure, and says so", async () => {
    const published = await publishedOver(["slow", 3], 100);
    expect(published.map((s) => [s.status, s.error])).toEqual([
      ["unavailable", "no answer within 100 ms (DASHBOARD_SOURCE_TIMEOUT_MS)"],
      ["ok", null],
    ]);
  });

  it("stops refreshing once stopped, even while waiting for the interval", async () => {
    let calls = 0;
    const poller = startPoller<number>({
      name: "test",
      intervalMs: 60_000,
      timeoutMs: 1_000,
      poll: async () => ++calls,
      describeError: String,
      onChange: () => {},
      logger,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await poller.stop();
    expect(calls).toBe(1);
    expect(poller.state()).toMatchObject({ status: "ok", data: 1 });
  });

  it("never starts a refresh while one given up on is still running", async () => {
    let running = 0;
    let most = 0;
    let calls = 0;
    const poller = startPoller<number>({
      name: "test",
      intervalMs: 1,
      timeoutMs: 20,
      poll: async () => {
        calls++;
        running++;
        most = Math.max(most, running);
        // Far longer than the timeout, as a query stuck on a server that went away.
        await new Promise((resolve) => setTimeout(resolve, 200));
        running--;
        return calls;
      },
      describeError: String,
      onChange: () => {},
      logger,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await poller.stop();
    expect(most).toBe(1);
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
