import { createLogger } from "@weather/service-kit";
import { describe, expect, it } from "vitest";
import { createLifetime } from "./lifetime.ts";

describe("createLifetime", () => {
  const logger = createLogger("lifetime-test", { level: "silent" });

  it("aborts its signal, then closes in reverse order of opening, going on past a failure", async () => {
    const lifetime = createLifetime(logger, "stopped");
    const closed: string[] = [];
    const closer =
      (name: string, fails = false) =>
      async () => {
        expect(lifetime.signal.aborted).toBe(true);
        closed.push(name);
        if (fails) throw new Error(`${name} would not close`);
      };
    lifetime.closeOnStop("HTTP server", closer("HTTP server"));
    lifetime.closeOnStop("pool", closer("pool", true));
    lifetime.closeOnStop("consumer", closer("consumer"));
    await lifetime.stop();
    expect(closed).toEqual(["consumer", "pool", "HTTP server"]);
  });

  it("closes each thing once however often it is stopped", async () => {
    const lifetime = createLifetime(logger, "stopped");
    let closes = 0;
    lifetime.closeOnStop("pool", async () => {
      closes++;
    });
    await Promise.all([lifetime.stop(), lifetime.stop()]);
    await lifetime.stop();
    expect(closes).toBe(1);
  });
});
