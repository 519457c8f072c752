import { once } from "node:events";
import net from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { maintenanceUrlOf } from "@weather/db";
import { testSettings } from "@weather/test-support";
import postgres from "postgres";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";

/**
 * postgres.js 3.4.9, as patched (patches/postgres@3.4.9.patch), against the stack's PostgreSQL:
 * a session that dies leaves nothing behind that throws outside a query, hangs the pool or answers
 * the next session's first query; a COPY the server refuses fails; its sockets send at once.
 */
const url = new URL(maintenanceUrlOf(testSettings.postgres.url));
const options = { onnotice: () => {}, connection: { application_name: "patch-tests" } };
const killer = postgres(url.toString(), { ...options, max: 1 });
afterAll(() => killer.end({ timeout: 5 }));

/** Whatever escaped every promise while a test ran: what would end a worker with BUG. */
let escaped: string[] = [];
const onEscape = (error: unknown) => escaped.push(String((error as Error)?.stack ?? error));
beforeEach(() => {
  escaped = [];
  process.on("uncaughtException", onEscape);
  process.on("unhandledRejection", onEscape);
});
afterEach(() => {
  process.off("uncaughtException", onEscape);
  process.off("unhandledRejection", onEscape);
});

describe("postgres.js, as patched, when its backend is terminated", () => {
  it("fails the transaction, throws nothing outside it, and its pool serves the next transactions (porsager/postgres#1154, #1208, #1216)", async () => {
    const sql = postgres(url.toString(), { ...options, max: 2 });
    try {
      for (let round = 0; round < 25; round++) {
        let backend: number | undefined;
        const transaction = sql
          .begin(async (tx) => {
            const [row] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
            backend = row?.pid;
            await tx`select pg_sleep(5)`;
          })
          .then(
            () => "committed",
            (error: { code?: string }) => error.code,
          );
        while (backend === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
        await killer`select pg_terminate_backend(${backend})`;
        // Upstream: a TypeError from a timer (the ROLLBACK written to the closed socket), then a
        // pool whose connection never writes again, so a later round never starts.
        expect(await transaction, `round ${round}`).toMatch(/^(CONNECTION_CLOSED|57P01)$/);
      }
      expect(await sql`select 1 as answer`).toEqual([{ answer: 1 }]);
    } finally {
      await sql.end({ timeout: 5 });
    }
    expect(escaped).toEqual([]);
  });

  it("reconnects a connection killed while it fetches the array types, and gives its first query its own answer (porsager/postgres#1192, #1223)", async () => {
    // A proxy that answers the new connection's first query (fetch_types) as a terminated backend
    // does, ErrorResponse 57P01 then close; every later connection passes through untouched.
    let connections = 0;
    const proxy = net.createServer((client) => {
      const first = ++connections === 1;
      const server = net.connect(Number(url.port || 5432), url.hostname);
      let chunks = 0;
      server.on("data", (data) => client.write(data));
      client.on("data", (data) => {
        // The first chunk is the startup message; the second, with trust, the types query.
        if (first && ++chunks === 2) {
          client.end(terminatedBackend());
          server.destroy();
        } else server.write(data);
      });
      for (const [socket, other] of [
        [client, server],
        [server, client],
      ] as const) {
        socket.on("error", () => other.destroy());
        socket.on("close", () => other.destroy());
      }
    });
    proxy.listen(0, "127.0.0.1");
    await once(proxy, "listening");
    const proxied = new URL(url);
    proxied.host = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    const sql = postgres(proxied.toString(), { ...options, max: 1, ssl: false });
    try {
      // Upstream: this query fails with the dead backend's 57P01, which also escapes unhandled.
      expect(await sql`select 1 as answer`).toEqual([{ answer: 1 }]);
      expect(connections).toBe(2);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      await sql.end({ timeout: 5 });
      proxy.close();
    }
    expect(escaped).toEqual([]);
  });
});

describe("postgres.js, as patched, copying", () => {
  it("fails a COPY FROM STDIN the server refuses after its last byte, so the transaction rolls back (porsager/postgres#1173)", async () => {
    const sql = postgres(url.toString(), { ...options, max: 1 });
    try {
      await sql`create temporary table copied (id int primary key)`;
      const refused = await sql
        .begin(async (tx) => {
          const writable = await tx`copy copied (id) from stdin`.writable();
          // A duplicate key: the server refuses it once it has all the data.
          await pipeline(Readable.from(["1\n", "1\n"]), writable);
        })
        .catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: "23505" });
      expect(await sql`select count(*)::int as rows from copied`).toEqual([{ rows: 0 }]);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it("sets TCP_NODELAY on its sockets, as libpq does", async () => {
    const noDelay: boolean[] = [];
    // postgres.js takes a socket factory (options.socket) its type declarations do not list.
    const ownSocket: object = {
      async socket() {
        const socket = net.connect(Number(url.port || 5432), url.hostname);
        const setNoDelay = socket.setNoDelay.bind(socket);
        socket.setNoDelay = (value?: boolean) => {
          noDelay.push(value ?? true);
          return setNoDelay(value);
        };
        await once(socket, "connect");
        return socket;
      },
    };
    const sql = postgres(url.toString(), { ...options, max: 1, ssl: false, ...ownSocket });
    try {
      await sql`select 1`;
      expect(noDelay).toEqual([true]);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});

/** The ErrorResponse a backend sends when pg_terminate_backend ends it. */
function terminatedBackend(): Buffer {
  const fields = [
    ["S", "FATAL"],
    ["V", "FATAL"],
    ["C", "57P01"],
    ["M", "terminating connection due to administrator command"],
  ].map(([type, value]) => Buffer.from(`${type}${value}\0`));
  const body = Buffer.concat([...fields, Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write("E", 0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}
