import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { createStepFunctionsEngine } from '@baton/adapter-stepfunctions';
import type { AnyPipeline, Engine } from '@baton/core';
import { createRegistryReviewStore, type RunRegistry } from '@baton/registry';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Rehearsal } from '../rehearse.js';

const SOURCES_DIR = join(import.meta.dirname, '../../../../../examples/report-generation/sources');

/** The output of the rehearsed stack whose key contains `part` (`BlobBucketName`, `ReviewTopicArn`…). */
export function output(r: Rehearsal, part: string): string {
  const found = Object.entries(r.outputs).find(([k]) => k.includes(part));
  if (!found) throw new Error(`the stack has no output *${part}* (outputs: ${Object.keys(r.outputs).join(', ')})`);
  return found[1];
}

/** SDK client settings of the rehearsal's admin on its AWS endpoint. */
export function adminConfig(r: Rehearsal): { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } } {
  return { region: r.region, endpoint: r.endpoints.aws, credentials: r.admin };
}

/** Uploads the reference example's source documents to the stack's claim-check bucket; returns the run input's `sources`. */
export async function uploadSources(r: Rehearsal): Promise<{ key: string; name: string }[]> {
  const s3 = new S3Client({ ...adminConfig(r), forcePathStyle: true });
  const bucket = output(r, 'BlobBucketName');
  const sources: { key: string; name: string }[] = [];
  for (const name of readdirSync(SOURCES_DIR).sort()) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `sources/${name}`, Body: readFileSync(join(SOURCES_DIR, name)) }));
    sources.push({ key: `sources/${name}`, name });
  }
  s3.destroy();
  return sources;
}

/** createStepFunctionsEngine on the rehearsal's endpoint, as `baton --engine stepfunctions` makes it. */
export function engineOn(r: Rehearsal, pipeline: AnyPipeline, registry: RunRegistry): Engine {
  return createStepFunctionsEngine({
    client: new SFNClient(adminConfig(r)),
    stateMachineArn: r.stateMachineArn!,
    pipelines: [pipeline],
    reviews: createRegistryReviewStore(registry),
    pollIntervalMs: 200,
  });
}

/** The review link of a notice and its token. */
export function reviewLinkIn(message: string): { url: URL; token: string } {
  const match = /https?:\/\/\S+\/reviews\/\S+/.exec(message);
  if (!match) throw new Error(`no review link in: ${message}`);
  const url = new URL(match[0]);
  return { url, token: url.searchParams.get('token') ?? '' };
}

/** Every history event of an execution (all pages). */
export async function historyOf(r: Rehearsal, executionArn: string): Promise<HistoryEvent[]> {
  const sfn = new SFNClient(adminConfig(r));
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, ...(nextToken ? { nextToken } : {}) }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  sfn.destroy();
  return events;
}

/** State transitions of a history: its `*StateEntered` events (what STANDARD bills). */
export function transitionsOf(events: HistoryEvent[]): number {
  return events.filter((e) => e.type?.endsWith('StateEntered')).length;
}

/** Waits until `check` returns a value (polling every 100 ms) or `timeoutMs` passes. */
export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * The sandbox init limit rehearsal tests give functions: Lambda's 10 s is too tight for a 7 MB
 * bundle loading on a 2-core machine running the rest of the suite.
 */
export const TEST_INIT_TIMEOUT_SECONDS = 60;
