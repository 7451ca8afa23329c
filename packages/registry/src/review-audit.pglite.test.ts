import { PGlite } from '@electric-sql/pglite';
import { afterAll } from 'vitest';
import { createPgliteClient } from './pglite.js';
import { reviewAuditSuite } from './test-support/review-audit-suite.js';

const db = await PGlite.create();
afterAll(() => db.close());

reviewAuditSuite('PGlite', (schema) => createPgliteClient({ db, schema }));
