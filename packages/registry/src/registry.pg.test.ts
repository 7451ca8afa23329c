import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { createPostgresClient } from './postgres.js';
import { labelsSuite } from './test-support/labels-suite.js';
import { registrySuite, type OpenClient } from './test-support/registry-suite.js';
import { reviewAuditSuite } from './test-support/review-audit-suite.js';
import { reviewStoreSuite } from './test-support/review-store-suite.js';
import { usageSuite } from './test-support/usage-suite.js';

// the server comes from the `postgres` project's globalSetup (a fresh initdb, or DATABASE_URL)
const url = inject('postgresUrl');
const schemas = new Set<string>();

const open: OpenClient = (schema) => {
  schemas.add(schema);
  return createPostgresClient({ connectionString: url, schema, maxConnections: 4 });
};
registrySuite('PostgreSQL', open);
labelsSuite('PostgreSQL', open);
reviewStoreSuite('PostgreSQL', open);
usageSuite('PostgreSQL', open);
reviewAuditSuite('PostgreSQL', open);

// leave a shared DATABASE_URL server as it was found
afterAll(async () => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});
