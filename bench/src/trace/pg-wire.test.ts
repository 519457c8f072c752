import { describe, expect, it } from "vitest";
import { ClientStream, ServerStream } from "./pg-wire.ts";

/** A typed protocol message: type byte, length (counting itself), body. */
function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const cstr = (text: string) => Buffer.from(`${text}\0`);
const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function startup(): Buffer {
  const body = Buffer.concat([int32(196608), cstr("user"), cstr("postgres"), cstr("")]);
  return Buffer.concat([int32(body.length + 4), body]);
}

function bind(statement: string, params: (Buffer | null)[], formats: number[] = []): Buffer {
  const values = params.map((p) => (p === null ? int32(-1) : Buffer.concat([int32(p.length), p])));
  return message(
    "B",
    Buffer.concat([
      cstr(""),
      cstr(statement),
      int16(formats.length),
      ...formats.map(int16),
      int16(params.length),
      ...values,
      int16(0),
    ]),
  );
}

describe("the client's byte stream", () => {
  const stream = Buffer.concat([
    startup(),
    message("Q", cstr("begin")),
    message("P", Buffer.concat([cstr("s1"), cstr("update t set n = $1 where p = $2"), int16(0)])),
    bind("s1", [Buffer.from("42"), int32(3)], [0, 1]),
    bind("s1", [null, Buffer.from("7")]),
    message("d", Buffer.alloc(1000)),
    message("c", Buffer.alloc(0)),
  ]);

  it("yields each statement with its SQL and parameters, whatever the chunking", () => {
    for (const size of [1, 3, 7, stream.length]) {
      const client = new ClientStream();
      const messages = [];
      for (let at = 0; at < stream.length; at += size)
        messages.push(...client.push(stream.subarray(at, at + size)));
      expect(messages).toEqual([
        { type: "startup" },
        { type: "statement", sql: "begin", params: [] },
        { type: "prepare", sql: "update t set n = $1 where p = $2" },
        { type: "statement", sql: "update t set n = $1 where p = $2", params: ["42", "3"] },
        { type: "statement", sql: "update t set n = $1 where p = $2", params: [null, "7"] },
        { type: "copy-data", bytes: 1000 },
        { type: "copy-done" },
      ]);
    }
  });
});

describe("the server's byte stream", () => {
  it("yields ReadyForQuery with its status, CopyInResponse and errors", () => {
    const server = new ServerStream();
    const bytes = Buffer.concat([
      message("C", cstr("BEGIN")),
      message("Z", Buffer.from("T")),
      message("G", Buffer.concat([Buffer.from([1]), int16(0)])),
      message("E", cstr("SERROR")),
      message("Z", Buffer.from("I")),
    ]);
    expect([...server.push(bytes.subarray(0, 9)), ...server.push(bytes.subarray(9))]).toEqual([
      { type: "other", code: "C" },
      { type: "ready", status: "T" },
      { type: "copy-in" },
      { type: "error" },
      { type: "ready", status: "I" },
    ]);
  });
});
