import { randomBytes } from 'node:crypto';
import type { FunctionSpec } from './context.js';
import { signedFetch } from './sign.js';

/** Sends X-Ray segments for traced functions' invocations. */
export interface SegmentSender {
  /** Sends the segments of invocations not sent yet. */
  flush(): Promise<void>;
  /** Segments sent, and refused (the refusal's HTTP status and text). */
  readonly sent: number;
  readonly refused: { function: string; status: number; text: string }[];
  close(): Promise<void>;
}

/**
 * What Lambda's X-Ray integration does for a function with `TracingConfig: Active`: one segment
 * per invocation (`AWS::Lambda::Function`, start and end), sent with the function's own
 * credentials, so the role's `xray:PutTraceSegments` statement is exercised (through the gateway,
 * which authorises it, to moto's X-Ray). Invocations are read from the local Lambda endpoint's log
 * every `intervalMs`.
 */
export function startSegmentSender(options: {
  functions: FunctionSpec[];
  invocations: { name: string; ms: number; error?: string }[];
  endpoint: string;
  region: string;
  intervalMs?: number;
}): SegmentSender {
  const traced = new Map(options.functions.filter((f) => f.tracing).map((f) => [f.name, f]));
  let done = 0;
  let sent = 0;
  const refused: SegmentSender['refused'] = [];
  let running: Promise<void> = Promise.resolve();
  const flushOnce = async (): Promise<void> => {
    const fresh = options.invocations.slice(done);
    done += fresh.length;
    for (const inv of fresh) {
      const fn = traced.get(inv.name);
      if (!fn) continue;
      const end = Date.now() / 1000;
      const segment = {
        name: fn.name,
        id: randomBytes(8).toString('hex'),
        trace_id: `1-${Math.floor(end).toString(16)}-${randomBytes(12).toString('hex')}`,
        start_time: end - inv.ms / 1000,
        end_time: end,
        origin: 'AWS::Lambda::Function',
        ...(inv.error ? { fault: true, cause: { exceptions: [{ type: inv.error, message: inv.error }] } } : {}),
        aws: { function_arn: fn.arn },
      };
      const body = JSON.stringify({ TraceSegmentDocuments: [JSON.stringify(segment)] });
      const res = await signedFetch(
        { method: 'POST', url: `${options.endpoint}/TraceSegments`, headers: { 'content-type': 'application/json' }, body },
        'xray',
        options.region,
        fn.role.credentials,
      ).catch((e: unknown) => ({ status: 0, text: (e as Error).message }));
      if (res.status === 200) sent++;
      else refused.push({ function: fn.name, status: res.status, text: res.text.slice(0, 300) });
    }
  };
  const flush = (): Promise<void> => (running = running.then(flushOnce, flushOnce));
  const timer = setInterval(() => void flush(), options.intervalMs ?? 250);
  timer.unref();
  return {
    flush,
    get sent() {
      return sent;
    },
    refused,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
