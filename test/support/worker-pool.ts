import { afterEach } from 'vitest';
import { spawnFixture, type FixtureProcess } from './processes.js';

/**
 * What one worker process boot may take: seconds normally, 20 s and more on the shared 2-core CI
 * machine under load (load average above 10 seen). Waits that need a freshly started worker to make
 * progress budget this much per boot on top of their own work.
 */
export const BOOT_BUDGET_MS = 45_000;

/** What draining a fault scenario's backlog may take once a worker is up (its waitForQueuesIdle / waitForStreamGroupsIdle). */
export const DRAIN_BUDGET_MS = 30_000;

/** Worker processes of one test file (test/fixtures), every one SIGKILLed after each test. */
export class WorkerPool {
  /** The processes started by the current test, in start order. */
  readonly started: FixtureProcess[] = [];

  constructor() {
    afterEach(async () => {
      for (const worker of this.started.splice(0)) {
        worker.child.kill('SIGKILL');
        await worker.exited;
      }
    });
  }

  spawn(name: string, env: Record<string, string>, readyLine?: string): FixtureProcess {
    const worker = spawnFixture(name, env, readyLine);
    this.started.push(worker);
    return worker;
  }

  /** The processes of the current test still running. */
  alive(): FixtureProcess[] {
    return this.started.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  }
}
