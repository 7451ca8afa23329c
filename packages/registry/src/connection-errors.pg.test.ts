import { isStageError, type StageError } from '@baton/core';
import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { createPostgresClient, createPostgresRegistry } from './postgres.js';

const url = inject('postgresUrl');
const server = new URL(url);

/** The test server's URL with other credentials or another database. */
function urlWith(change: { user?: string; password?: string; database?: string }): string {
  const u = new URL(url);
  if (change.user !== undefined) u.username = change.user;
  if (change.password !== undefined) u.password = change.password;
  if (change.database !== undefined) u.pathname = `/${change.database}`;
  return u.toString();
}

async function failure(options: Parameters<typeof createPostgresRegistry>[0]): Promise<StageError> {
  const error: unknown = await createPostgresRegistry(options).then(
    async (r) => {
      await r.close();
      throw new Error('the registry was created');
    },
    (e: unknown) => e,
  );
  if (!isStageError(error)) throw error;
  return error;
}

async function listening(onSocket?: (s: Socket) => void): Promise<{ port: number; server: Server }> {
  const s = createServer(onSocket);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { port: (s.address() as { port: number }).port, server: s };
}

describe('createPostgresRegistry when the database cannot be used', () => {
  it('names host:port/database, never the password, when the port is closed (retryable)', async () => {
    const { port, server: s } = await listening();
    await new Promise((r) => s.close(r));
    for (const host of ['127.0.0.1', 'localhost']) {
      const e = await failure({ connectionString: `postgres://baton:pw-never-shown@${host}:${port}/reports` });
      expect(e).toMatchObject({ code: 'ServiceUnavailableException', retryable: true, details: { host, port, database: 'reports', reason: 'ECONNREFUSED' } });
      expect(e.message).toContain(`${host}:${port}/reports`);
      expect(e.message).toMatch(/check that the server is running/);
      expect(JSON.stringify({ message: e.message, details: e.details })).not.toContain('pw-never-shown');
    }
  });

  it('gives up after connectionTimeoutMillis on a server that never answers', async () => {
    const sockets: Socket[] = [];
    const { port, server: s } = await listening((socket) => void sockets.push(socket));
    const started = Date.now();
    const e = await failure({ connectionString: `postgres://baton@127.0.0.1:${port}/reports`, connectionTimeoutMillis: 300 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(e).toMatchObject({ code: 'ServiceUnavailableException', retryable: true });
    expect(e.message).toContain(`127.0.0.1:${port}/reports within 300 ms`);
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => s.close(r));
  });

  it('reports a host name that does not resolve as unavailable (DNS may come back)', async () => {
    const e = await failure({ connectionString: 'postgres://baton@registry.invalid:5432/reports', connectionTimeoutMillis: 3_000 });
    expect(e).toMatchObject({ code: 'ServiceUnavailableException', retryable: true });
    expect(e.message).toContain('registry.invalid:5432/reports');
  });

  it('refuses a wrong password with a ConfigurationError that is never retried', async () => {
    const role = `baton_pw_${process.pid}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'right-horse-battery'`);
    try {
      const as = (password: string): string => urlWith({ user: role, password });
      const probe = new pg.Client({ connectionString: as('wrong-staple') });
      const trusted = await probe.connect().then(
        () => true,
        () => false,
      );
      await probe.end().catch(() => undefined);
      // the test server asks every role but baton for its password; a DATABASE_URL server that trusts every login cannot refuse one
      expect(
        trusted,
        "the PostgreSQL under test accepted a wrong password: run against the suite's own server (unset DATABASE_URL) or one with password authentication",
      ).toBe(false);
      const e = await failure({ connectionString: as('wrong-staple') });
      expect(e).toMatchObject({ code: 'ConfigurationError', retryable: false, details: { user: role, reason: '28P01' } });
      expect(e.message).toContain(`${server.hostname}:${server.port}${server.pathname}`);
      expect(e.message).toMatch(/check the user and password/);
      expect(e.message).not.toContain('wrong-staple');
      const ok = await createPostgresClient({ connectionString: as('right-horse-battery') });
      expect(await ok.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      await ok.close();
    } finally {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });

  it('refuses a database that does not exist with a ConfigurationError', async () => {
    const e = await failure({ connectionString: urlWith({ database: 'no_such_registry' }) });
    expect(e).toMatchObject({ code: 'ConfigurationError', retryable: false, details: { database: 'no_such_registry', reason: '3D000' } });
    expect(e.message).toContain(`${server.hostname}:${server.port}/no_such_registry`);
  });

  it('asks for a connection string when there is none', async () => {
    const e = await failure({ connectionString: '' });
    expect(e).toMatchObject({ code: 'ConfigurationError', retryable: false });
  });

  it('leaves SQL errors as they are', async () => {
    const client = await createPostgresClient({ connectionString: url });
    const e: unknown = await client.query('SELEC 1').catch((x: unknown) => x);
    expect(isStageError(e)).toBe(false);
    expect(e).toMatchObject({ code: '42601' });
    await client.close();
  });
});
