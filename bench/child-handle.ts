import { fork, type ChildProcess } from 'node:child_process';
import { CHILD_ENTRY, CHILD_EXEC_ARGV, ROOT } from './paths.js';
import type { ChildConfig, ChildMessage, ParentMessage } from './protocol.js';

const EXIT_WAIT_MS = 15_000;

type Waiter = { type: ChildMessage['type']; resolve: (message: ChildMessage) => void; reject: (error: Error) => void };

/** One forked benchmark process and the replies it sends. */
export class ChildHandle {
  private readonly child: ChildProcess;
  private waiters: Waiter[] = [];
  private failure: Error | undefined;
  private readonly exited: Promise<void>;
  /** Resolves when the child said `ready`. */
  readonly ready: Promise<void>;

  constructor(config: ChildConfig, extraExecArgv: string[] = []) {
    this.child = fork(CHILD_ENTRY, [JSON.stringify(config)], {
      cwd: ROOT,
      execArgv: [...CHILD_EXEC_ARGV, ...extraExecArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: ChildMessage) => this.onMessage(message));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.failWith(new Error(`${config.role} ${config.system} exited (${code ?? signal})`));
        resolve();
      }),
    );
    this.ready = this.next('ready').then(() => undefined);
  }

  send(message: ParentMessage): void {
    // A child exiting on its own can close the channel between the check and
    // the write: its exit is reported through `exited`, so the EPIPE is dropped
    // here instead of crashing the harness as an unhandled 'error' event.
    if (this.child.connected) this.child.send(message, () => undefined);
  }

  /** Resolves with the next message of `type`. */
  next<T extends ChildMessage['type']>(type: T): Promise<Extract<ChildMessage, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.push({ type, resolve: resolve as (message: ChildMessage) => void, reject });
    });
  }

  /** Sends `message` and resolves with the reply of `type`. */
  ask<T extends ChildMessage['type']>(message: ParentMessage, type: T): Promise<Extract<ChildMessage, { type: T }>> {
    const reply = this.next(type);
    this.send(message);
    return reply;
  }

  /** Asks the child to stop; kills it if it has not exited in time. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), EXIT_WAIT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private onMessage(message: ChildMessage): void {
    if (message.type === 'error') {
      this.failWith(new Error(message.message));
      return;
    }
    const index = this.waiters.findIndex((w) => w.type === message.type);
    if (index < 0) return;
    const [waiter] = this.waiters.splice(index, 1);
    waiter.resolve(message);
  }

  private failWith(error: Error): void {
    this.failure ??= error;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(this.failure);
  }
}
