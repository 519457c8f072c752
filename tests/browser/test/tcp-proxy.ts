import { createServer, type Server, Socket } from "node:net";

/**
 * A TCP port in front of a real service that a test can cut and restore: close() refuses new
 * connections and drops the open ones, as a service going away does; open() forwards again.
 */
export interface TcpProxy {
  readonly port: number;
  open(): Promise<void>;
  close(): Promise<void>;
}

export async function tcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  return {
    port,
    open: () =>
      new Promise<void>((resolve, reject) => {
        if (server) return resolve();
        server = createServer((client) => {
          const upstream = new Socket().connect(targetPort, targetHost);
          for (const socket of [client, upstream]) {
            sockets.add(socket);
            socket.on("close", () => sockets.delete(socket));
            socket.on("error", () => {
              client.destroy();
              upstream.destroy();
            });
          }
          client.pipe(upstream).pipe(client);
        });
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => resolve());
      }),
    close: () =>
      new Promise<void>((resolve) => {
        const closing = server;
        server = undefined;
        for (const socket of sockets) socket.destroy();
        if (closing) closing.close(() => resolve());
        else resolve();
      }),
  };
}
