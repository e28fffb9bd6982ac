import type { Reporter, TestCase, TestModule } from "vitest/node";

/**
 * Fails the run, naming the culprit, when a test or a test file stops making progress.
 *
 * Inside the Workers pool a call stuck in a Durable Object can stall a test past its own timeout
 * (workers-sdk#11122): the runner then waits forever with no CPU and no output. This watch turns
 * that into a red run within minutes that says which test and file were running.
 */
const GRACE_MS = 60_000;
const DEFAULT_TEST_TIMEOUT_MS = 5_000;
/** A file with no test running (hooks, teardown) may stay quiet this long. */
const IDLE_FILE_MS = 120_000;
const TICK_MS = 5_000;

export default class HangWatchReporter implements Reporter {
  private readonly running = new Map<string, { test: TestCase; since: number }>();
  private readonly files = new Map<string, { module: TestModule; lastEvent: number }>();
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The last sign of progress anywhere, and the file that last finished. */
  private lastEvent = Date.now();
  private lastFinished = "(none yet)";

  onTestRunStart(): void {
    this.timer = setInterval(() => this.check(), TICK_MS);
    this.timer.unref();
  }

  onTestModuleStart(module: TestModule): void {
    this.files.set(module.id, { module, lastEvent: Date.now() });
    this.lastEvent = Date.now();
  }

  onTestModuleEnd(module: TestModule): void {
    this.files.delete(module.id);
    this.lastEvent = Date.now();
    this.lastFinished = module.moduleId;
  }

  onTestCaseReady(test: TestCase): void {
    this.running.set(test.id, { test, since: Date.now() });
    this.touch(test.module);
  }

  onTestCaseResult(test: TestCase): void {
    this.running.delete(test.id);
    this.touch(test.module);
  }

  onTestRunEnd(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private touch(module: TestModule): void {
    const file = this.files.get(module.id);
    if (file) file.lastEvent = Date.now();
    this.lastEvent = Date.now();
  }

  private check(): void {
    const now = Date.now();
    for (const { test, since } of this.running.values()) {
      const limit = (test.options.timeout ?? DEFAULT_TEST_TIMEOUT_MS) + GRACE_MS;
      if (now - since > limit) {
        this.fail(
          `test "${test.fullName}" in ${test.module.moduleId} has run ${Math.round((now - since) / 1000)} s, ` +
            `past its timeout + ${GRACE_MS / 1000} s grace`,
        );
      }
    }
    if (this.running.size === 0 && this.files.size === 0 && now - this.lastEvent > IDLE_FILE_MS) {
      this.fail(
        `no test file has started for ${Math.round((now - this.lastEvent) / 1000)} s ` +
          `since ${this.lastFinished} finished (stuck between files)`,
      );
    }
    for (const { module, lastEvent } of this.files.values()) {
      const busy = [...this.running.values()].some((r) => r.test.module.id === module.id);
      if (!busy && now - lastEvent > IDLE_FILE_MS) {
        this.fail(
          `${module.moduleId} has had no test running for ${Math.round((now - lastEvent) / 1000)} s ` +
            `(stuck in a hook or in teardown)`,
        );
      }
    }
  }

  private fail(why: string): never {
    process.stderr.write(
      `\nHANG: ${why}. Stopping the run (see test/support/hang-watch-reporter.ts).\n`,
    );
    process.exit(1);
  }
}
