import { StageError, defineStage, type StageContext } from '@baton/core';
import { z } from 'zod';
import { createEventBridgeSink } from './notify-eventbridge.js';

/** Where a completion event goes. `file` writes to the blob store; others are registered sinks. */
export const NotifySinkConfig = z.union([
  z.object({ kind: z.literal('file'), key: z.string().optional() }),
  z.object({ kind: z.literal('stdout') }),
  z.object({ kind: z.literal('webhook'), url: z.url(), headers: z.record(z.string(), z.string()).default({}) }),
  z.looseObject({ kind: z.string() }),
]);
/** Where a completion event goes. */
export type NotifySinkConfig = z.output<typeof NotifySinkConfig>;

/** The completion event. */
export const CompletionEvent = z.object({
  type: z.literal('report.completed'),
  runId: z.string(),
  title: z.string(),
  outputs: z.record(z.string(), z.string()),
  sections: z.record(z.string(), z.number()),
});
/** The completion event. */
export type CompletionEvent = z.output<typeof CompletionEvent>;

/** A sink delivers one event; it must be idempotent for the same event (re-delivery happens). */
export type NotifySink = (event: CompletionEvent, config: NotifySinkConfig, ctx: StageContext) => Promise<string>;

const sinks = new Map<string, NotifySink>();

/**
 * Registers a sink kind (EventBridge, Slack, …) so notify can deliver to it by name.
 *
 * @example
 * ```ts
 * registerNotifySink('log', async (event, _config, ctx) => { ctx.log.info('done', event); return 'logged'; });
 * ```
 */
export function registerNotifySink(kind: string, sink: NotifySink): void {
  sinks.set(kind, sink);
}

registerNotifySink('file', async (event, config, ctx) => {
  const key = ('key' in config && typeof config.key === 'string' && config.key) || `notifications/${event.runId}.json`;
  await ctx.blobs.put(key, JSON.stringify(event, null, 2));
  return `blob:${key}`;
});
registerNotifySink('stdout', async (event) => {
  process.stdout.write(JSON.stringify(event) + '\n');
  return 'stdout';
});
registerNotifySink('webhook', async (event, config, ctx) => {
  const c = config as { url: string; headers?: Record<string, string> };
  const res = await fetch(c.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `${event.runId}:report.completed`, ...c.headers },
    body: JSON.stringify(event),
    signal: ctx.signal,
  }).catch((e: unknown) => {
    throw new StageError('ServiceUnavailableException', `webhook ${c.url} unreachable: ${(e as Error).message}`);
  });
  if (res.status === 429 || res.status >= 500)
    throw new StageError(res.status === 429 ? 'ThrottlingException' : 'ServiceUnavailableException', `webhook ${c.url} answered ${res.status}`);
  if (!res.ok) throw new StageError('StageFailed', `webhook ${c.url} answered ${res.status}`, { retryable: false });
  return `webhook:${res.status}`;
});

registerNotifySink('eventbridge', createEventBridgeSink());

/** Input of {@link notify}. */
export const NotifyInput = z.object({ event: CompletionEvent.omit({ type: true }), sink: NotifySinkConfig.default({ kind: 'file' }) });

/** Emits a `report.completed` event to a pluggable sink (file, stdout, webhook, or a registered one). */
export const notify = defineStage({
  name: 'notify',
  version: 1,
  description: 'completion event -> sink',
  input: NotifyInput,
  output: z.object({ delivered: z.string() }),
  retry: [{ errors: ['ThrottlingException', 'ServiceUnavailableException'], intervalMs: 1000, backoffRate: 2, maxAttempts: 3, jitter: 'FULL' }],
  async run(input, ctx) {
    const sink = sinks.get(input.sink.kind);
    if (!sink) throw new StageError('InvalidInput', `unknown notify sink "${input.sink.kind}"; known: ${[...sinks.keys()].join(', ')}`);
    return { delivered: await sink({ type: 'report.completed', ...input.event }, input.sink, ctx) };
  },
});
