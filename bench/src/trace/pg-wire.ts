/**
 * Just enough of PostgreSQL's wire protocol (v3) to see, on a client's socket, which statements it
 * sends, when it waits for the server, and when a transaction commits: message framing in both
 * directions, SQL text of Query and Parse, the parameters of Bind. Nothing is changed on the wire;
 * the tracer only reads copies of what the client writes and receives.
 */

/** One message the client sent. */
export type ClientMessage =
  | { readonly type: "startup" }
  /** Query (simple protocol) or Bind (extended): the statement it runs, with Bind's parameters. */
  | { readonly type: "statement"; readonly sql: string; readonly params: readonly (string | null)[] }
  /** Parse: a statement prepared (postgres.js does so once per connection, then only binds it). */
  | { readonly type: "prepare"; readonly sql: string }
  | { readonly type: "copy-data"; readonly bytes: number }
  | { readonly type: "copy-done" }
  | { readonly type: "other"; readonly code: string };

/** One message the server sent; `status` of ReadyForQuery: I idle, T in a transaction, E failed. */
export type ServerMessage =
  | { readonly type: "ready"; readonly status: string }
  | { readonly type: "copy-in" }
  | { readonly type: "error" }
  | { readonly type: "other"; readonly code: string };

/** Bodies longer than this are skipped, not buffered (COPY data, big results). */
const KEEP_BODY_UP_TO = 64 * 1024;
/** The types whose bodies the parsers read. */
const CLIENT_BODIES = new Set(["Q", "P", "B"]);
const SERVER_BODIES = new Set(["Z"]);

/**
 * Splits a byte stream into messages: a type byte and a length (which counts itself), except the
 * client's first message (startup), which has no type byte. Messages may be split across or share
 * chunks in any way.
 */
class Framer {
  private header = Buffer.alloc(0);
  private code = "";
  private remaining = 0;
  /** The current message's body length. */
  private length = 0;
  private body: Buffer[] | undefined;
  private untyped: boolean;
  private readonly keep: ReadonlySet<string>;

  constructor(untypedFirst: boolean, keep: ReadonlySet<string>) {
    this.untyped = untypedFirst;
    this.keep = keep;
  }

  /** Calls `onMessage` for every message completed by `chunk`, with its body when the type is kept. */
  push(chunk: Buffer, onMessage: (code: string, body: Buffer | undefined, length: number) => void): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining === 0 && this.code === "") {
        const headerLength = this.untyped ? 4 : 5;
        const take = Math.min(headerLength - this.header.length, chunk.length - at);
        this.header = Buffer.concat([this.header, chunk.subarray(at, at + take)]);
        at += take;
        if (this.header.length < headerLength) return;
        this.code = this.untyped ? "" : String.fromCharCode(this.header[0] as number);
        const length = this.header.readInt32BE(this.untyped ? 0 : 1) - 4;
        this.remaining = length;
        this.length = length;
        this.body = this.keep.has(this.code) && length <= KEEP_BODY_UP_TO ? [] : undefined;
        this.header = Buffer.alloc(0);
        if (this.untyped) this.code = "startup";
        this.untyped = false;
        if (length === 0) {
          this.finish(onMessage);
          continue;
        }
      }
      const take = Math.min(this.remaining, chunk.length - at);
      this.body?.push(chunk.subarray(at, at + take));
      at += take;
      this.remaining -= take;
      if (this.remaining === 0) this.finish(onMessage);
    }
  }

  private finish(onMessage: (code: string, body: Buffer | undefined, length: number) => void): void {
    const body = this.body === undefined ? undefined : Buffer.concat(this.body);
    const { code, length } = this;
    this.code = "";
    this.body = undefined;
    onMessage(code, body, length);
  }
}

function cString(body: Buffer, at: number): [string, number] {
  const end = body.indexOf(0, at);
  const stop = end < 0 ? body.length : end;
  return [body.toString("utf8", at, stop), stop + 1];
}

/** A Bind parameter as text: text-format values as they are, binary ints as their decimal value. */
function paramText(value: Buffer, binary: boolean): string {
  if (!binary) return value.toString("utf8");
  if (value.length === 4) return String(value.readInt32BE(0));
  if (value.length === 8) return value.readBigInt64BE(0).toString();
  if (value.length === 2) return String(value.readInt16BE(0));
  return value.toString("hex");
}

function bindParams(body: Buffer): { statement: string; params: (string | null)[] } {
  const [, afterPortal] = cString(body, 0);
  const [statement, afterStatement] = cString(body, afterPortal);
  let at = afterStatement;
  const formatCount = body.readInt16BE(at);
  at += 2;
  const formats: number[] = [];
  for (let i = 0; i < formatCount; i++, at += 2) formats.push(body.readInt16BE(at));
  const count = body.readInt16BE(at);
  at += 2;
  const params: (string | null)[] = [];
  for (let i = 0; i < count; i++) {
    const length = body.readInt32BE(at);
    at += 4;
    if (length < 0) {
      params.push(null);
      continue;
    }
    const format = formatCount === 0 ? 0 : formatCount === 1 ? formats[0] : formats[i];
    params.push(paramText(body.subarray(at, at + length), format === 1));
    at += length;
  }
  return { statement, params };
}

/** The client's side of one connection: statements resolved from Parse/Bind, COPY data counted. */
export class ClientStream {
  private readonly framer = new Framer(true, CLIENT_BODIES);
  /** Prepared statements by name ("" is the unnamed one) -> SQL. */
  private readonly statements = new Map<string, string>();

  push(chunk: Buffer): ClientMessage[] {
    const messages: ClientMessage[] = [];
    this.framer.push(chunk, (code, body, length) => {
      if (code === "startup") messages.push({ type: "startup" });
      else if (code === "Q" && body)
        messages.push({ type: "statement", sql: cString(body, 0)[0], params: [] });
      else if (code === "P" && body) {
        const [name, at] = cString(body, 0);
        const sql = cString(body, at)[0];
        this.statements.set(name, sql);
        if (name !== "") messages.push({ type: "prepare", sql });
      } else if (code === "B" && body) {
        const { statement, params } = bindParams(body);
        messages.push({ type: "statement", sql: this.statements.get(statement) ?? "", params });
      } else if (code === "d") messages.push({ type: "copy-data", bytes: length });
      else if (code === "c") messages.push({ type: "copy-done" });
      else messages.push({ type: "other", code });
    });
    return messages;
  }
}

/** The server's side of one connection. */
export class ServerStream {
  private readonly framer = new Framer(false, SERVER_BODIES);

  push(chunk: Buffer): ServerMessage[] {
    const messages: ServerMessage[] = [];
    this.framer.push(chunk, (code, body) => {
      if (code === "Z") messages.push({ type: "ready", status: String.fromCharCode(body?.[0] ?? 0) });
      else if (code === "G") messages.push({ type: "copy-in" });
      else if (code === "E") messages.push({ type: "error" });
      else messages.push({ type: "other", code });
    });
    return messages;
  }
}
