import type { InjectedSinks } from '@temporalio/worker';
import type { BatonSinks } from '../workflow/contract.js';

/** Sinks for replay workers: events were observed when the runs happened, so replay drops them. */
export const replaySinks: InjectedSinks<BatonSinks> = { baton: { event: { fn: () => undefined, callDuringReplay: false } } };
