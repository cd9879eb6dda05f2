/** One way to undo something the launcher started. */
export type TeardownStep = () => Promise<void> | void;

/**
 * What the launcher started, undone exactly once whichever exit path comes
 * first (Ctrl-C, an app exiting, a failed start, a crash). A step is
 * registered right after its start begins, before the launcher awaits
 * anything, so no exit path can find a started process unregistered; a step
 * that awaits a start still under way stops its result once it lands.
 */
export class LaunchTeardown {
  private readonly steps: TeardownStep[] = [];
  private run: Promise<void> | undefined;

  /** Whether teardown has begun: the launcher starts nothing more. */
  get begun(): boolean {
    return this.run !== undefined;
  }

  /** Registers a step; steps run in reverse order of registration. */
  add(step: TeardownStep): void {
    if (this.run) throw new Error('teardown has begun: nothing may be started any more');
    this.steps.push(step);
  }

  /**
   * Runs every step once, last registered first; a failing step is reported
   * and the others still run. Every caller, the first or a later one, gets
   * the same promise: nobody may exit while teardown is still running.
   */
  stop(report: (error: unknown) => void): Promise<void> {
    this.run ??= (async () => {
      for (const step of [...this.steps].reverse()) {
        try {
          await step();
        } catch (error) {
          report(error);
        }
      }
    })();
    return this.run;
  }
}
