import { PGlite } from '@electric-sql/pglite';
import { afterAll } from 'vitest';
import { createPgliteClient } from './pglite.js';
import { labelsSuite } from './test-support/labels-suite.js';
import { registrySuite, type OpenClient } from './test-support/registry-suite.js';
import { reviewStoreSuite } from './test-support/review-store-suite.js';
import { usageSuite } from './test-support/usage-suite.js';

// one embedded database for the file (its WebAssembly start is the slow part), a schema per test
const db = await PGlite.create();
afterAll(() => db.close());

const open: OpenClient = (schema) => createPgliteClient({ db, schema });
registrySuite('PGlite', open);
labelsSuite('PGlite', open);
reviewStoreSuite('PGlite', open);
usageSuite('PGlite', open);
