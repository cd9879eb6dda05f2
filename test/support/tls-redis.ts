import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitFor } from 'nest-redis-broker/testing';

/** A TLS-only redis-server (plain port off) with a CA made for the test. */
export interface TlsRedisHandle {
  port: number;
  /** PEM of the self-signed CA that signed the server certificate. */
  ca: Buffer;
  stop(): Promise<void>;
}

/**
 * Makes a CA and a server certificate for 127.0.0.1 with `openssl`, then
 * starts `redis-server --port 0 --tls-port <free>` with them (no client
 * certificates required). `args` adds server options, e.g. an ACL user.
 */
export async function startTlsRedis(args: string[] = []): Promise<TlsRedisHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'nrb-tls-'));
  const file = (name: string): string => join(dir, name);
  const openssl = (...a: string[]): void => void execFileSync('openssl', a, { stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=nrb-test-ca', '-keyout', file('ca.key'), '-out', file('ca.crt'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr'));
  writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1',
    '-extfile', file('ext.cnf'), '-out', file('server.crt'));
  const ca = readFileSync(file('ca.crt'));
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', [
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--tls-cert-file', file('server.crt'), '--tls-key-file', file('server.key'), '--tls-ca-cert-file', file('ca.crt'),
    '--tls-auth-clients', 'no', '--loglevel', 'warning', ...args,
  ], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => {
      const probe = new Redis({ port, host: '127.0.0.1', tls: { ca }, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    }, { timeoutMs: 10_000, description: 'the TLS redis-server to accept connections' });
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, ca, stop };
}
