import { randomBytes } from 'node:crypto';
import { SfnApiError, taskError } from './errors.js';

interface Waiter {
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
  heartbeatSeconds?: number;
  heartbeat?: NodeJS.Timeout;
}

/**
 * The task tokens of `.waitForTaskToken` Tasks: minted per Task attempt, answered once by
 * SendTaskSuccess / SendTaskFailure, as the service does: a token never issued here is
 * `InvalidToken`; one issued but no longer awaited (answered, timed out, its execution ended) is
 * `TaskTimedOut` ("Provided task does not exist anymore").
 */
export class TaskTokens {
  /** Every token minted, with the state machine whose Task it belongs to. */
  private readonly issued = new Map<string, string>();
  private readonly waiting = new Map<string, Waiter>();

  /** Mints a token shaped like the service's (opaque base64, a few hundred characters) for a Task of `stateMachineArn`. */
  mint(stateMachineArn: string): string {
    const token = `AQ${randomBytes(180).toString('base64')}`;
    this.issued.set(token, stateMachineArn);
    return token;
  }

  /** The state machine a token was minted for ('*' for a token never minted here): the resource SendTask* calls are authorised on. */
  ownerOf(token: string): string {
    return this.issued.get(token) ?? '*';
  }

  /**
   * Waits for the answer to `token`; with `heartbeatSeconds`, fails with `States.HeartbeatTimeout`
   * when no heartbeat (or answer) comes in time.
   */
  wait(token: string, heartbeatSeconds?: number): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, ...(heartbeatSeconds === undefined ? {} : { heartbeatSeconds }) };
      this.waiting.set(token, waiter);
      this.beat(token, waiter);
    });
  }

  /** Stops waiting for `token` (its Task timed out or its execution ended): later answers are refused. */
  forget(token: string): void {
    const w = this.waiting.get(token);
    if (w?.heartbeat) clearTimeout(w.heartbeat);
    this.waiting.delete(token);
  }

  /** SendTaskSuccess: `output` must be JSON text. */
  succeed(token: string, output: string | undefined): void {
    let value: unknown;
    try {
      value = JSON.parse(output ?? '');
    } catch {
      throw new SfnApiError('InvalidOutput', "Invalid Output: 'Output is not a valid JSON'");
    }
    this.take(token).resolve(value);
  }

  /** SendTaskFailure: the Task fails with `error` (what Retry and Catch match) and `cause`. */
  fail(token: string, error: string | undefined, cause: string | undefined): void {
    this.take(token).reject(taskError(error ?? '', cause ?? ''));
  }

  /** SendTaskHeartbeat. */
  heartbeat(token: string): void {
    const w = this.check(token);
    this.beat(token, w);
  }

  private beat(token: string, w: Waiter): void {
    if (w.heartbeatSeconds === undefined) return;
    if (w.heartbeat) clearTimeout(w.heartbeat);
    w.heartbeat = setTimeout(() => {
      this.forget(token);
      w.reject(taskError('States.HeartbeatTimeout', ''));
    }, w.heartbeatSeconds * 1000);
    w.heartbeat.unref();
  }

  private take(token: string): Waiter {
    const w = this.check(token);
    this.forget(token);
    return w;
  }

  private check(token: string): Waiter {
    const w = this.waiting.get(token);
    if (w) return w;
    if (this.issued.has(token)) throw new SfnApiError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    throw new SfnApiError('InvalidToken', "Invalid Token: 'Invalid token'");
  }
}
