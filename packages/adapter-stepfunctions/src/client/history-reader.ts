import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import { sfnApiError } from './service-errors.js';

/** Executions whose history a reader keeps between reads (the most recently read). */
const KEPT = 50;

/**
 * Reads executions' whole histories, keeping what it read: a history only grows (a redrive appends
 * to it), so a later read asks GetExecutionHistory newest first (`reverseOrder`) and stops at the
 * first event it already has. Following a long run costs a page per poll, not the whole history.
 *
 * @example
 * ```ts
 * const read = createHistoryReader(new SFNClient({}));
 * const events = await read(executionArn); // oldest first, every page
 * ```
 */
export function createHistoryReader(client: SFNClient): (executionArn: string) => Promise<HistoryEvent[]> {
  const kept = new Map<string, HistoryEvent[]>();
  const page = async (
    executionArn: string,
    reverseOrder: boolean,
    nextToken: string | undefined,
  ): Promise<{ events?: HistoryEvent[] | undefined; nextToken?: string | undefined }> => {
    try {
      return await client.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, includeExecutionData: true, reverseOrder, ...(nextToken ? { nextToken } : {}) }),
      );
    } catch (e) {
      throw sfnApiError(e, `GetExecutionHistory of ${executionArn}`);
    }
  };
  return async (executionArn) => {
    const known = kept.get(executionArn) ?? [];
    const lastId = known.at(-1)?.id ?? 0;
    const fresh: HistoryEvent[] = [];
    let nextToken: string | undefined;
    reading: do {
      const out = await page(executionArn, lastId > 0, nextToken);
      for (const e of out.events ?? []) {
        if (lastId > 0 && (e.id ?? 0) <= lastId) break reading;
        fresh.push(e);
      }
      nextToken = out.nextToken;
    } while (nextToken);
    const events = lastId > 0 ? [...known, ...fresh.reverse()] : fresh;
    kept.delete(executionArn);
    kept.set(executionArn, events);
    if (kept.size > KEPT) kept.delete(kept.keys().next().value!);
    return events;
  };
}
