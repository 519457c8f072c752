import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer } from "node:net";

/** Who listens on a TCP port, as far as this user may see. */
export interface PortHolder {
  readonly port: number;
  /** Undefined when the socket belongs to a process this user may not look into. */
  readonly pid: number | undefined;
  readonly command: string | undefined;
}

const LISTEN = "0A";

/** The inodes of the listening sockets on `port`, any address, IPv4 or IPv6 (Linux's /proc/net). */
function listeningInodes(port: number): string[] | undefined {
  const inodes: string[] = [];
  let readable = false;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
      readable = true;
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (fields[3] !== LISTEN || local === undefined) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16) === port && fields[9])
        inodes.push(fields[9]);
    }
  }
  return readable ? inodes : undefined;
}

/** The process holding one of the sockets, found through /proc/<pid>/fd (root sees every process). */
function processOwning(inodes: readonly string[]): { pid: number; command: string } | undefined {
  const wanted = new Set(inodes.map((inode) => `socket:[${inode}]`));
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!wanted.has(target)) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
      return { pid: Number(entry), command: command.length > 100 ? `${command.slice(0, 97)}...` : command };
    }
  }
  return undefined;
}

/** Whether something listens on 127.0.0.1:port, where /proc cannot tell: try to listen there. */
function listenFails(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(true));
    server.listen(port, host, () => server.close(() => resolve(false)));
  });
}

/** Who holds `port`, or undefined when it is free. */
export async function portHolder(port: number, host = "127.0.0.1"): Promise<PortHolder | undefined> {
  const inodes = listeningInodes(port);
  if (inodes === undefined)
    return (await listenFails(port, host)) ? { port, pid: undefined, command: undefined } : undefined;
  if (inodes.length === 0) return undefined;
  const owner = processOwning(inodes);
  return { port, pid: owner?.pid, command: owner?.command };
}

/** "port 5433 is taken by pid 2228 (postgres -D ...)", for a one-line error. */
export function describeHolder(holder: PortHolder): string {
  return holder.pid === undefined
    ? `port ${holder.port} is taken by a process this user cannot see (ss -ltnp 'sport = :${holder.port}' names it)`
    : `port ${holder.port} is taken by pid ${holder.pid} (${holder.command || "no command line"})`;
}
