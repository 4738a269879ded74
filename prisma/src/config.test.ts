import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, getConfig, KEY_FILE, loadConfig, resetConfigForTests } from './config.js';
import { createCipher } from './crypto.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'gridflow-config-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const key = randomBytes(32).toString('base64');

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ GRIDFLOW_DATA_DIR: dataDir, GRIDFLOW_ENCRYPTION_KEY: key, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('defaults to embedded mode on 127.0.0.1:3000 with the data dir', () => {
    const c = loadConfig({ GRIDFLOW_DATA_DIR: dataDir, GRIDFLOW_ENCRYPTION_KEY: key });
    expect(c).toMatchObject({
      mode: 'embedded',
      databaseUrl: undefined,
      redisUrl: undefined,
      port: 3000,
      host: '127.0.0.1',
      dataDir,
      dbPoolSize: 20,
      pgliteThread: 'own',
      pgliteVacuumMinutes: 10,
      publicUrl: 'http://localhost:3000',
      httpAllowPrivate: false,
      platformUrls: {},
      logLevel: 'info',
      workers: 8,
      hookRateLimit: 10_000,
      keySource: 'env',
    });
  });

  it('is scaled when both DATABASE_URL and REDIS_URL are set', () => {
    const c = loadConfig({
      GRIDFLOW_DATA_DIR: dataDir,
      GRIDFLOW_ENCRYPTION_KEY: key,
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/gridflow',
      REDIS_URL: 'redis://127.0.0.1:6379',
      PORT: '8080',
      GRIDFLOW_HTTP_ALLOW_PRIVATE: 'yes',
      GRIDFLOW_PLATFORM_X_URL: 'http://127.0.0.1:9999',
      LOG_LEVEL: 'DEBUG',
      GRIDFLOW_PGLITE_THREAD: ' Caller ',
      GRIDFLOW_PGLITE_VACUUM_MINUTES: '0',
      GRIDFLOW_PUBLIC_URL: 'https://flows.example.com/',
    });
    expect(c).toMatchObject({
      mode: 'scaled',
      port: 8080,
      httpAllowPrivate: true,
      platformUrls: { x: 'http://127.0.0.1:9999' },
      logLevel: 'debug',
      pgliteThread: 'caller',
      pgliteVacuumMinutes: 0,
      publicUrl: 'https://flows.example.com',
    });
    expect(
      loadConfig({
        GRIDFLOW_DATA_DIR: dataDir,
        GRIDFLOW_ENCRYPTION_KEY: key,
        DATABASE_URL: 'postgres://h/db',
      }).mode,
    ).toBe('embedded');
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', /whole number/],
    [{ PORT: '70000' }, 'PORT', /between 0 and 65535/],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL', /postgres:\/\/ or postgresql:\/\/ URL/],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL', /redis:\/\/ or rediss:\/\/ URL/],
    [{ OPENAI_BASE_URL: 'not a url' }, 'OPENAI_BASE_URL', /http:\/\/ or https:\/\/ URL/],
    [{ GRIDFLOW_HTTP_ALLOW_PRIVATE: 'maybe' }, 'GRIDFLOW_HTTP_ALLOW_PRIVATE', /true or false/],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of fatal, error/],
    [{ GRIDFLOW_PGLITE_THREAD: 'worker' }, 'GRIDFLOW_PGLITE_THREAD', /must be own or caller/],
    [{ GRIDFLOW_PGLITE_VACUUM_MINUTES: '-5' }, 'GRIDFLOW_PGLITE_VACUUM_MINUTES', /whole number/],
    [
      { GRIDFLOW_PGLITE_VACUUM_MINUTES: '20000' },
      'GRIDFLOW_PGLITE_VACUUM_MINUTES',
      /between 0 and 10080/,
    ],
    [{ GRIDFLOW_WORKERS: '0' }, 'GRIDFLOW_WORKERS', /between 1 and 256/],
    [{ GRIDFLOW_HOOK_RATE_LIMIT: '0' }, 'GRIDFLOW_HOOK_RATE_LIMIT', /between 1 and 1000000/],
    [{ GRIDFLOW_SESSION_SECRET: 'short' }, 'GRIDFLOW_SESSION_SECRET', /at least 32/],
    [{ GRIDFLOW_PLATFORM_LINKEDIN_URL: 'ftp://x' }, 'GRIDFLOW_PLATFORM_LINKEDIN_URL', /http/],
    [
      { GRIDFLOW_ENCRYPTION_KEY: 'c2hvcnQ=' },
      'GRIDFLOW_ENCRYPTION_KEY',
      /5 bytes; AES-256 needs 32 bytes/,
    ],
  ])('names the variable and the problem: %o', (env, variable, problem) => {
    const err = configError(env as Record<string, string>);
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    expect(err.message).toMatch(problem);
  });

  it('requires an encryption key in scaled mode', () => {
    const err = configError({
      GRIDFLOW_ENCRYPTION_KEY: '',
      DATABASE_URL: 'postgresql://h/db',
      REDIS_URL: 'redis://h',
    });
    expect(err.variable).toBe('GRIDFLOW_ENCRYPTION_KEY');
    expect(err.message).toMatch(/required in scaled mode/);
  });

  it('generates the embedded key once, with mode 0600, and reuses it', () => {
    const env = { GRIDFLOW_DATA_DIR: join(dataDir, 'nested') };
    const first = loadConfig(env);
    const file = join(dataDir, 'nested', KEY_FILE);
    expect(first.keySource).toBe('file');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    const value = createCipher(first.keyring).encrypt('survives restarts');
    const second = loadConfig(env);
    expect(createCipher(second.keyring).decrypt(value)).toBe('survives restarts');
  });

  it('reports a corrupt key file as GRIDFLOW_ENCRYPTION_KEY with the file path', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dataDir, KEY_FILE), 'garbage!!', { mode: 0o600 });
    const err = configError({ GRIDFLOW_ENCRYPTION_KEY: '' });
    expect(err.variable).toBe('GRIDFLOW_ENCRYPTION_KEY');
    expect(err.message).toContain(join(dataDir, KEY_FILE));
  });
});

describe('getConfig', () => {
  it('reads process.env once until resetConfigForTests()', () => {
    const saved = { ...process.env };
    try {
      process.env.GRIDFLOW_DATA_DIR = dataDir;
      process.env.GRIDFLOW_ENCRYPTION_KEY = key;
      process.env.PORT = '4001';
      resetConfigForTests();
      expect(getConfig().port).toBe(4001);
      process.env.PORT = '4002';
      expect(getConfig().port).toBe(4001);
      resetConfigForTests();
      expect(getConfig().port).toBe(4002);
    } finally {
      process.env = saved;
      resetConfigForTests();
    }
  });
});
