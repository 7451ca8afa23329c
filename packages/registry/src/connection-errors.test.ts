import { StageError } from '@baton/core';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresConnectionError, postgresTargetOf, type PostgresTarget } from './connection-errors.js';

const target: PostgresTarget = { host: 'db.internal', port: 5432, database: 'registry', user: 'baton', connectTimeoutMs: 5000, password: 's3cret-pw' };
const coded = (code: string, message = code): Error => Object.assign(new Error(message), { code });

describe('postgresConnectionError', () => {
  it.each([
    [coded('ECONNREFUSED'), 'ServiceUnavailableException', /cannot reach .*db\.internal:5432\/registry/],
    [coded('ENOTFOUND'), 'ServiceUnavailableException', /cannot resolve the host/],
    [coded('EAI_AGAIN'), 'ServiceUnavailableException', /DNS/],
    [coded('57P03', 'the database system is starting up'), 'ServiceUnavailableException', /not accepting connections \(57P03/],
    [coded('53300', 'sorry, too many clients already'), 'ServiceUnavailableException', /max_connections/],
    [new Error('Connection terminated due to connection timeout'), 'ServiceUnavailableException', /within 5000 ms/],
    [new Error('timeout expired'), 'ServiceUnavailableException', /within 5000 ms/],
    [new Error('Connection terminated unexpectedly'), 'ServiceUnavailableException', /closed the connection/],
    [coded('28P01', 'password authentication failed for user "baton"'), 'ConfigurationError', /refused user "baton"/],
    [coded('28000', 'no pg_hba.conf entry for host "10.0.0.9", user "baton", database "registry", no encryption'), 'ConfigurationError', /sslmode/],
    [new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'), 'ConfigurationError', /check the user and password/],
    [coded('3D000', 'database "registry" does not exist'), 'ConfigurationError', /has no database "registry"/],
    [coded('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'), 'ConfigurationError', /CA certificate/],
    [new Error('The server does not support SSL connections'), 'ConfigurationError', /sslmode/],
  ])('maps %s to %s', (error, code, message) => {
    const e = postgresConnectionError(error, target);
    expect(e?.code).toBe(code);
    expect(e?.retryable).toBe(code === 'ServiceUnavailableException');
    expect(e?.message).toMatch(message);
    expect(e?.message).toContain('db.internal:5432/registry');
    expect(e?.cause).toBe(error);
  });

  it('reads a refused dual-stack connect from its first attempt', () => {
    const aggregate = new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], 'connect failed');
    expect(postgresConnectionError(aggregate, target)?.code).toBe('ServiceUnavailableException');
  });

  it('never repeats the password, even when a driver message carries it', () => {
    const e = postgresConnectionError(coded('28P01', 'bad password s3cret-pw'), target);
    expect(e?.message).not.toContain('s3cret-pw');
    expect(JSON.stringify(e?.details)).not.toContain('s3cret-pw');
  });

  it('leaves SQL errors and StageErrors alone', () => {
    expect(postgresConnectionError(coded('42601', 'syntax error at or near "SELEC"'), target)).toBeUndefined();
    expect(postgresConnectionError(coded('23505', 'duplicate key: SSL timeout expired'), target)).toBeUndefined();
    expect(postgresConnectionError(new StageError('InvalidInput', 'x'), target)).toBeUndefined();
    expect(postgresConnectionError(new Error('something else'), target)).toBeUndefined();
  });

  it('reads the target from the pool as pg does', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://ana:pw@db.example:6543/reports', connectionTimeoutMillis: 1234 });
    expect(postgresTargetOf(pool)).toEqual({ host: 'db.example', port: 6543, database: 'reports', user: 'ana', connectTimeoutMs: 1234, password: 'pw' });
    await pool.end();
  });
});
