import { PGlite } from '@electric-sql/pglite';
import { afterAll } from 'vitest';
import { createPgliteClient } from './pglite.js';
import { registrySuite } from './test-support/registry-suite.js';

// one embedded database for the file (its WebAssembly start is the slow part), a schema per test
const db = await PGlite.create();
afterAll(() => db.close());

registrySuite('PGlite', (schema) => createPgliteClient({ db, schema }));
