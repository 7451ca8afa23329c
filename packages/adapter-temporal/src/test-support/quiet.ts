import { DefaultLogger, Runtime } from '@temporalio/worker';

/** Keeps the Temporal runtime's INFO lines (worker state changes) out of test output. */
export function quietTemporalRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed in this process
  }
}
