import { EventBridgeClient, PutEventsCommand, type EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import { StageError } from '@baton/core';
import type { NotifySink } from './notify.js';

/** Options of {@link createEventBridgeSink}. */
export interface EventBridgeSinkOptions {
  /** A client to reuse; otherwise one is built from `clientConfig` on first use. */
  client?: EventBridgeClient;
  /** Region, endpoint, credentials (default: the environment). */
  clientConfig?: EventBridgeClientConfig;
  /** @default 'default' (a sink config's `eventBusName` overrides it) */
  eventBusName?: string;
  /** Event source. @default 'baton.report' */
  source?: string;
}

/**
 * A notify sink that puts the completion event on an Amazon EventBridge bus (`PutEvents`,
 * detail-type `report.completed`). Throttling maps to `ThrottlingException`, a failed entry or an
 * unavailable service to retryable codes, anything else to a fatal `StageFailed`.
 *
 * @example
 * ```ts
 * registerNotifySink('eventbridge', createEventBridgeSink({ eventBusName: 'reports' }));
 * ```
 */
export function createEventBridgeSink(options: EventBridgeSinkOptions = {}): NotifySink {
  let client = options.client;
  return async (event, config) => {
    client ??= new EventBridgeClient(options.clientConfig ?? {});
    const c = config as { eventBusName?: unknown; source?: unknown };
    const bus = typeof c.eventBusName === 'string' ? c.eventBusName : (options.eventBusName ?? 'default');
    const source = typeof c.source === 'string' ? c.source : (options.source ?? 'baton.report');
    let res;
    try {
      res = await client.send(
        new PutEventsCommand({ Entries: [{ EventBusName: bus, Source: source, DetailType: event.type, Detail: JSON.stringify(event) }] }),
      );
    } catch (e) {
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const status = err.$metadata?.httpStatusCode;
      const code =
        err.name === 'ThrottlingException' || status === 429
          ? 'ThrottlingException'
          : status === undefined || status >= 500
            ? 'ServiceUnavailableException'
            : 'StageFailed';
      throw new StageError(code, `EventBridge PutEvents on bus "${bus}" failed: ${err.name ?? 'error'}: ${err.message ?? ''}`, {
        ...(code === 'StageFailed' ? { retryable: false } : {}),
        details: { bus, providerCode: err.name ?? null, httpStatus: status ?? null },
      });
    }
    const entry = res.Entries?.[0];
    if ((res.FailedEntryCount ?? 0) > 0 || !entry?.EventId) {
      throw new StageError(
        'ServiceUnavailableException',
        `EventBridge rejected the event on bus "${bus}": ${entry?.ErrorCode ?? 'unknown'}: ${entry?.ErrorMessage ?? ''}`,
        {
          details: { bus, providerCode: entry?.ErrorCode ?? null },
        },
      );
    }
    return `eventbridge:${bus}:${entry.EventId}`;
  };
}
