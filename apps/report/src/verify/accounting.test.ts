import { describe, expect, it } from "vitest";
import { accountsHold, PartitionLedger } from "./accounting.ts";

const bounds = { partition: 2, low: 100n, high: 112n, stored: 110n };

/** A ledger where Kafka returned every offset from low to stored but `missing`. */
function ledger(missing: readonly bigint[] = []): PartitionLedger {
  const l = new PartitionLedger(bounds);
  for (let offset = bounds.low; offset < bounds.stored; offset++)
    if (!missing.includes(offset)) l.returned(offset);
  return l;
}

describe("PartitionLedger: every offset below the stored one is exactly one thing", () => {
  it("holds when each returned offset is a row, a dead letter or a re-send, and skips what Kafka does not return", () => {
    const l = ledger([104n, 105n]);
    for (const offset of [100n, 101n, 102n, 106n, 107n]) l.row(offset);
    l.deadLetter(103n);
    l.deadLetter(103n); // sent twice around a crash: still one dead-lettered offset
    l.resend(108n);
    l.deadLetter(109n);
    const account = l.account();
    expect(account).toMatchObject({
      rows: 5,
      deadLetters: 2,
      resends: 1,
      notReturned: 2,
      gaps: 0,
      duplicates: 0,
      deadLettersRepeated: 1,
      lag: 2n,
    });
    expect(accountsHold([account])).toBe(true);
  });

  it("catches a gap: a message Kafka returned that nothing accounts for", () => {
    const l = ledger();
    for (let offset = 100n; offset < 110n; offset++) if (offset !== 103n && offset !== 107n) l.row(offset);
    const account = l.account();
    expect(account).toMatchObject({ gaps: 2, gapExamples: [103n, 107n] });
    expect(accountsHold([account])).toBe(false);
  });

  it("catches a duplicate: two rows of one offset, or a row and a dead letter, or a row of a record Kafka never had", () => {
    const l = ledger([109n]);
    for (let offset = 100n; offset < 109n; offset++) l.row(offset);
    l.row(101n);
    l.deadLetter(104n);
    l.row(109n);
    const account = l.account();
    expect(account).toMatchObject({ duplicates: 3, duplicateExamples: [101n, 104n, 109n], gaps: 0 });
    expect(accountsHold([account])).toBe(false);
  });

  it("flags stored state past the stored offset, and only notes rows older than the log", () => {
    const l = ledger();
    for (let offset = 100n; offset < 110n; offset++) l.row(offset);
    l.row(99n);
    l.row(110n);
    l.deadLetter(111n); // a dead letter sent before a crash, its chunk not committed yet: no error
    const account = l.account();
    expect(account).toMatchObject({ beforeLogStart: 1, beyondStored: 1, rows: 10 });
    expect(accountsHold([account])).toBe(false);
  });

  it("catches records the retention deleted before the sink stored them", () => {
    const account = new PartitionLedger({ partition: 0, low: 50n, high: 50n, stored: 10n }).account();
    expect(account).toMatchObject({ rows: 0, gaps: 0, lag: 40n, expiredUnstored: 40n });
    expect(accountsHold([account])).toBe(false);
  });
});
