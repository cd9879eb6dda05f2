import { createServer } from 'node:net';

/** `preferred` when nothing listens on it (127.0.0.1), else a free port the OS picks. */
export async function portOrFree(preferred: number): Promise<number> {
  if (await canListen(preferred)) return preferred;
  return listenOnce(0);
}

async function canListen(port: number): Promise<boolean> {
  try {
    await listenOnce(port);
    return true;
  } catch {
    // EADDRINUSE (or EACCES): the port is not ours to take.
    return false;
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const chosen = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolve(chosen));
    });
  });
}
