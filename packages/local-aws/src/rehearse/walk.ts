import { COMPUTE_CREATORS } from './compute.js';
import type { CreateContext, Creator } from './context.js';
import { resolve } from './intrinsics.js';
import { STORAGE_CREATORS, createSecret, skipped } from './resources.js';
import type { RehearsedResource } from './rehearse.js';

const IGNORED = new Set(['AWS::CDK::Metadata']);

/**
 * Creates the template's resources in `order` (dependencies first), each with its properties
 * resolved against what was created before it; a type the rehearsal does not create is named (so
 * that references to it resolve) and reported as skipped.
 */
export async function createAll(ctx: CreateContext, order: string[], log: (line: string) => void): Promise<RehearsedResource[]> {
  const out: RehearsedResource[] = [];
  for (const id of order) {
    const resource = ctx.stack.template.Resources[id]!;
    if (IGNORED.has(resource.Type)) continue;
    if (resource.Condition && !ctx.resolve.conditions[resource.Condition]) {
      out.push({ logicalId: id, type: resource.Type, physicalId: '', status: 'skipped', note: `condition ${resource.Condition} is false` });
      continue;
    }
    const known: Creator | undefined = STORAGE_CREATORS[resource.Type] ?? COMPUTE_CREATORS[resource.Type];
    const creator = known ?? skipped(resource.Type);
    const props = resolve(resource.Properties ?? {}, ctx.resolve) as Record<string, unknown>;
    let created;
    try {
      created = await creator(ctx, id, props);
    } catch (e) {
      throw new Error(`creating ${id} (${resource.Type}): ${(e as Error).message}`, { cause: e });
    }
    ctx.resolve.physical.set(id, { ref: created.ref, attributes: created.attributes });
    const status = known ? created.status : 'skipped';
    out.push({ logicalId: id, type: resource.Type, physicalId: created.ref, status, ...(created.note ? { note: created.note } : {}) });
    if (status === 'created') log(`created ${resource.Type} ${id}: ${created.ref}`);
  }
  return out;
}

const SECRET_ARN = /arn:aws[\w-]*:secretsmanager:([\w-]+):(\d{12}):secret:([\w/+=.@-]+)/g;

/**
 * Creates each secret the template names by literal ARN (an imported secret: `fromSecretCompleteArn`
 * / `fromSecretPartialArn`) under that ARN, so that the functions read it where the template says
 * and their IAM statements name it. Its value: `values[arn]` or `values[name]`; a secret a function
 * reads as `BATON_DATABASE_SECRET_ARN` gets `databaseUrl`. A secret with no value throws naming it.
 * Returns the ARNs created.
 */
export async function createImportedSecrets(ctx: CreateContext, databaseUrl: string | undefined, values: Record<string, string>): Promise<string[]> {
  const text = JSON.stringify(ctx.stack.template.Resources);
  const arns = new Set([...text.matchAll(SECRET_ARN)].map((m) => m[0]).filter((a) => !/[?*]/.test(a)));
  const database = new Set(
    Object.values(ctx.stack.template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.BATON_DATABASE_SECRET_ARN)
      .filter((v): v is string => typeof v === 'string'),
  );
  const created: string[] = [];
  for (const arn of arns) {
    const [, region, account, resource] = /arn:aws[\w-]*:secretsmanager:([\w-]+):(\d{12}):secret:(.+)/.exec(arn)!;
    if (region !== ctx.region || account !== ctx.account) throw new Error(`secret ${arn}: the rehearsal runs in ${ctx.account}/${ctx.region} only`);
    const complete = /^(.+)-([A-Za-z0-9]{6})$/.exec(resource!);
    const name = complete ? complete[1]! : resource!;
    if (ctx.secrets.has(name)) continue;
    const value = values[arn] ?? values[name] ?? (database.has(arn) ? databaseUrl : undefined);
    if (value === undefined) {
      throw new Error(
        database.has(arn)
          ? `secret ${arn} is the registry's database secret (BATON_DATABASE_SECRET_ARN): give the rehearsal a databaseUrl (baton rehearse --database-url)`
          : `the template imports secret ${arn}: give its value (secrets: { '${arn}': '…' }, or baton rehearse --secret ${name}=…)`,
      );
    }
    const made = await createSecret(ctx, name, value, complete?.[2]);
    if (complete && made !== arn) throw new Error(`secret ${arn} was created as ${made}: moto did not take its suffix`);
    created.push(made);
  }
  return created;
}
