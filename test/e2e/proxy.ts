/**
 * A TCP proxy in front of the portal, to take the network away in the middle of an upload and
 * bring it back. `down()` drops every connection and refuses new ones; `up()` listens again on
 * the same port. `delayMs` slows each chunk sent to the portal so an upload takes a moment.
 */
import net from 'node:net';

export interface NetworkProxy {
  readonly port: number;
  /** Delay for each chunk sent to the portal from now on. */
  setDelay(ms: number): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(
  port: number,
  targetPort: number,
  options: { delayMs?: number } = {},
): Promise<NetworkProxy> {
  const sockets = new Set<net.Socket>();
  let delayMs = options.delayMs ?? 0;
  let server: net.Server | undefined;

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const next = net.createServer((client) => {
        const upstream = net.connect(targetPort, '127.0.0.1');
        sockets.add(client);
        sockets.add(upstream);
        const drop = (): void => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop);
        upstream.on('error', drop);
        client.on('close', drop);
        upstream.on('close', drop);
        upstream.pipe(client);
        client.on('data', (chunk: Buffer) => {
          client.pause();
          setTimeout(() => {
            if (!upstream.destroyed) upstream.write(chunk);
            client.resume();
          }, delayMs);
        });
        client.on('end', () => upstream.end());
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        server = next;
        resolve();
      });
    });

  const down = async (): Promise<void> => {
    const current = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();
  return {
    port,
    setDelay: (ms) => {
      delayMs = ms;
    },
    down,
    up: listen,
    close: down,
  };
}
