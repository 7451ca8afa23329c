import { inject } from 'vitest';
import { createPostgresClient } from './postgres.js';
import { registrySuite } from './test-support/registry-suite.js';

// the server comes from the `postgres` project's globalSetup (a fresh initdb, or DATABASE_URL)
registrySuite('PostgreSQL', (schema) => createPostgresClient({ connectionString: inject('postgresUrl'), schema, maxConnections: 4 }));
