import { type ClientMessage, ClientStream, type ServerMessage, ServerStream } from "./pg-wire.ts";

/**
 * One round trip inside a transaction: what the client wrote before it next waited for the
 * server (every write until the server's next bytes), and how long each side took.
 */
export interface RoundTrip {
  /** The statements written ("begin", "update consumer_offsets + savepoint + copy", "copy data", …). */
  readonly label: string;
  /** From the server's last bytes before this write to the write: the client's own time, ms. */
  readonly clientMs: number;
  /** From the last write to the server's last bytes before the client wrote again (or committed), ms. */
  readonly serverMs: number;
}

/** One transaction on one connection, as its bytes went by. Times: epoch ms with fractions. */
export interface TransactionTrace {
  readonly connection: number;
  readonly beginAt: number;
  /** When COMMIT (or ROLLBACK) was written. */
  readonly endSentAt: number;
  /** When the server's ReadyForQuery after it arrived: the transaction is over. */
  readonly endedAt: number;
  readonly outcome: "commit" | "rollback";
  readonly roundTrips: readonly RoundTrip[];
  /** COPY data bytes sent (CopyData payloads). */
  readonly copyBytes: number;
  /** The partition and next offset the transaction stored, from the `update consumer_offsets` it ran. */
  readonly partition?: number;
  readonly nextOffset?: number;
}

/** The words a statement is known by in a round trip's label: "update consumer_offsets", "copy weather_readings". */
function statementLabel(sql: string): string {
  const words = sql.replaceAll('"', "").trim().split(/\s+/).slice(0, 3);
  const verb = (words[0] ?? "").toLowerCase();
  if (verb === "insert") return `insert ${words[2] ?? ""}`.trim();
  if (verb === "update" || verb === "copy") return `${verb} ${words[1] ?? ""}`.trim();
  if (verb === "select" || verb === "with") return verb;
  return verb;
}

function labelOf(message: ClientMessage): string | undefined {
  if (message.type === "statement") return statementLabel(message.sql);
  if (message.type === "prepare") return `prepare ${statementLabel(message.sql)}`;
  if (message.type === "copy-data" || message.type === "copy-done") return "copy data";
  return undefined;
}

/** `$n` placeholders of the offset update: which parameter is the next offset, which the partition. */
const NEXT_OFFSET = /next_offset\s*=\s*\$(\d+)/i;
const PARTITION = /partition\s*=\s*\$(\d+)/i;

function offsetUpdate(message: ClientMessage): { partition: number; nextOffset: number } | undefined {
  if (message.type !== "statement" || !/^\s*update\s+"?consumer_offsets"?/i.test(message.sql))
    return undefined;
  const next = NEXT_OFFSET.exec(message.sql)?.[1];
  const partition = PARTITION.exec(message.sql)?.[1];
  if (next === undefined || partition === undefined) return undefined;
  const value = (n: string) => Number(message.params[Number(n) - 1]);
  return { partition: value(partition), nextOffset: value(next) };
}

interface OpenTransaction {
  beginAt: number;
  endSentAt?: number;
  outcome: "commit" | "rollback";
  roundTrips: RoundTrip[];
  copyBytes: number;
  partition?: number;
  nextOffset?: number;
  /** The round trip being written: its statements and first and last write. */
  labels: string[];
  clientMs: number;
  lastWriteAt: number;
}

/**
 * Follows one connection's two byte streams and reports each finished transaction. A round trip
 * ends where the client writes again after the server has answered; pipelined statements (written
 * together, answered together) are one.
 */
export class ConnectionTracker {
  private readonly client = new ClientStream();
  private readonly server = new ServerStream();
  private tx: OpenTransaction | undefined;
  private answeredSinceWrite = false;
  private lastReadAt = 0;
  private readonly connection: number;
  private readonly onTransaction: (tx: TransactionTrace) => void;

  constructor(connection: number, onTransaction: (tx: TransactionTrace) => void) {
    this.connection = connection;
    this.onTransaction = onTransaction;
  }

  /** Bytes the client wrote at `at`. */
  written(at: number, chunk: Buffer): void {
    const messages = this.client.push(chunk);
    if (messages.length === 0) return;
    let tx = this.tx;
    const first = messages[0] as ClientMessage;
    if (tx === undefined) {
      if (first.type !== "statement" || !/^\s*begin\b/i.test(first.sql)) return;
      tx = {
        beginAt: at,
        outcome: "commit",
        roundTrips: [],
        copyBytes: 0,
        labels: [],
        clientMs: 0,
        lastWriteAt: at,
      };
      this.tx = tx;
    } else if (this.answeredSinceWrite) {
      this.closeRoundTrip(tx);
      tx.clientMs = at - this.lastReadAt;
    }
    this.answeredSinceWrite = false;
    tx.lastWriteAt = at;
    for (const message of messages) {
      const label = labelOf(message);
      if (label !== undefined && tx.labels.at(-1) !== label) tx.labels.push(label);
      if (message.type === "copy-data") tx.copyBytes += message.bytes;
      const update = offsetUpdate(message);
      if (update !== undefined) {
        tx.partition = update.partition;
        tx.nextOffset = update.nextOffset;
      }
      if (message.type === "statement" && /^\s*(commit|rollback)\b/i.test(message.sql)) {
        tx.endSentAt = at;
        tx.outcome = /^\s*commit/i.test(message.sql) ? "commit" : "rollback";
      }
    }
  }

  /** Bytes the server sent, arrived at `at`. */
  received(at: number, chunk: Buffer): void {
    const messages: ServerMessage[] = this.server.push(chunk);
    const tx = this.tx;
    if (tx === undefined) return;
    this.answeredSinceWrite = true;
    this.lastReadAt = at;
    const over = messages.some((m) => m.type === "ready" && m.status === "I");
    if (!over || tx.endSentAt === undefined) return;
    this.closeRoundTrip(tx);
    this.tx = undefined;
    this.answeredSinceWrite = false;
    this.onTransaction({
      connection: this.connection,
      beginAt: tx.beginAt,
      endSentAt: tx.endSentAt,
      endedAt: at,
      outcome: tx.outcome,
      roundTrips: tx.roundTrips,
      copyBytes: tx.copyBytes,
      ...(tx.partition === undefined ? {} : { partition: tx.partition }),
      ...(tx.nextOffset === undefined ? {} : { nextOffset: tx.nextOffset }),
    });
  }

  private closeRoundTrip(tx: OpenTransaction): void {
    tx.roundTrips.push({
      label: tx.labels.join(" + "),
      clientMs: tx.clientMs,
      serverMs: this.lastReadAt - tx.lastWriteAt,
    });
    tx.labels = [];
  }
}
