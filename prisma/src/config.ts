/**
 * The one place Gridflow reads its environment. Read lazily, once (`getConfig()`), validated with
 * zod; an invalid value throws a ConfigError naming the variable and what is wrong.
 *
 * `mode` is `scaled` when both DATABASE_URL and REDIS_URL are set (PostgreSQL + BullMQ workers in
 * other processes), else `embedded` (one process; PGlite in the data dir unless DATABASE_URL is set).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseKeyring, type Keyring } from './keyring.js';

/** Repository root (this file is prisma/src/config.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** The environment variable at fault. */
    readonly variable: string,
    /** What is wrong with it, for a person. */
    readonly problem: string,
  ) {
    super(`Invalid configuration: ${variable}: ${problem}`);
  }
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  mode: 'embedded' | 'scaled';
  /** PostgreSQL URL; undefined = embedded PGlite in `dataDir/pglite`. */
  databaseUrl: string | undefined;
  /** Pool size for PostgreSQL (GRIDFLOW_DB_POOL_SIZE, default 20). */
  dbPoolSize: number;
  /**
   * Where embedded PGlite runs (GRIDFLOW_PGLITE_THREAD): on its own worker thread (`own`, the
   * default), or on the thread that opens it (`caller`: one thread for everything, as before).
   */
  pgliteThread: 'own' | 'caller';
  /**
   * Embedded PGlite is vacuumed every this many minutes (GRIDFLOW_PGLITE_VACUUM_MINUTES, default
   * 10; 0: never). PGlite has no autovacuum.
   */
  pgliteVacuumMinutes: number;
  redisUrl: string | undefined;
  port: number;
  host: string;
  dataDir: string;
  /** Encryption keys; the first one encrypts. */
  keyring: Keyring;
  /** Where the key came from: the environment or the generated file in the data dir. */
  keySource: 'env' | 'file';
  openaiApiKey: string | undefined;
  openaiBaseUrl: string | undefined;
  /** The URL users reach Gridflow at (links in notifications, webhook URLs). */
  publicUrl: string;
  /** Let HTTP nodes reach private/loopback addresses (off by default: SSRF protection). */
  httpAllowPrivate: boolean;
  /** Base URL overrides of the social platform APIs (tests point them at fake servers). */
  platformUrls: { linkedin?: string; x?: string; facebook?: string; instagram?: string };
  logLevel: LogLevel;
  /** In-process worker concurrency. */
  workers: number;
  /** Calls per second one webhook accepts in one server process (more get 429). */
  hookRateLimit: number;
  sessionSecret: string | undefined;
}

type Env = Record<string, string | undefined>;

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const url = (protocols: string[], example: string) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine(
        (s) => {
          try {
            return protocols.includes(new URL(s).protocol);
          } catch {
            return false;
          }
        },
        `must be a ${protocols.map((p) => p.replace(':', '://')).join(' or ')} URL, e.g. ${example}`,
      )
      .optional(),
  );

const int = (min: number, max: number, def: number) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
      .transform(Number)
      .refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`)
      .optional()
      .transform((n) => n ?? def),
  );

const bool = (def: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .transform((s) => s.trim().toLowerCase())
      .refine(
        (s) => ['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off'].includes(s),
        'must be true or false (or 1/0, yes/no, on/off)',
      )
      .transform((s) => ['1', 'true', 'yes', 'on'].includes(s))
      .optional()
      .transform((b) => b ?? def),
  );

/** One of `values` (case and surrounding spaces ignored), `def` when unset or empty. */
const oneOf = <const T extends readonly [string, ...string[]]>(
  values: T,
  def: T[number],
  message: string,
) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? emptyToUndefined(v.trim().toLowerCase()) : v),
    z
      .enum(values, { error: message })
      .optional()
      .transform((x) => x ?? def),
  );

const optString = z.preprocess(emptyToUndefined, z.string().optional());

const envSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgresql://user:pass@127.0.0.1:5432/gridflow'),
  REDIS_URL: url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
  PORT: int(0, 65535, 3000),
  HOST: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .optional()
      .transform((h) => h ?? '127.0.0.1'),
  ),
  GRIDFLOW_DATA_DIR: optString,
  GRIDFLOW_DB_POOL_SIZE: int(1, 500, 20),
  GRIDFLOW_PGLITE_THREAD: oneOf(['own', 'caller'], 'own', 'must be own or caller'),
  GRIDFLOW_PGLITE_VACUUM_MINUTES: int(0, 10080, 10),
  GRIDFLOW_ENCRYPTION_KEY: optString,
  OPENAI_API_KEY: optString,
  OPENAI_BASE_URL: url(['http:', 'https:'], 'http://127.0.0.1:11434/v1'),
  GRIDFLOW_PUBLIC_URL: url(['http:', 'https:'], 'https://gridflow.example.com'),
  GRIDFLOW_HTTP_ALLOW_PRIVATE: bool(false),
  GRIDFLOW_PLATFORM_LINKEDIN_URL: url(['http:', 'https:'], 'http://127.0.0.1:9001'),
  GRIDFLOW_PLATFORM_X_URL: url(['http:', 'https:'], 'http://127.0.0.1:9002'),
  GRIDFLOW_PLATFORM_FACEBOOK_URL: url(['http:', 'https:'], 'http://127.0.0.1:9003'),
  GRIDFLOW_PLATFORM_INSTAGRAM_URL: url(['http:', 'https:'], 'http://127.0.0.1:9004'),
  LOG_LEVEL: oneOf(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    'info',
    'must be one of fatal, error, warn, info, debug, trace, silent',
  ),
  GRIDFLOW_WORKERS: int(1, 256, 8),
  GRIDFLOW_HOOK_RATE_LIMIT: int(1, 1_000_000, 10_000),
  GRIDFLOW_SESSION_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().min(32, 'must be at least 32 characters').optional(),
  ),
});

/** Name of the generated key file inside the data dir (embedded mode only). */
export const KEY_FILE = 'encryption.key';

/**
 * Reads the key from `<dataDir>/encryption.key`, generating it (32 random bytes, base64, mode 0600)
 * on first use.
 */
function loadOrCreateKeyFile(dataDir: string): string {
  const file = join(dataDir, KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      // 'wx': never overwrite a key another process created in the meantime.
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    chmodSync(file, 0o600);
  }
  return readFileSync(file, 'utf8').trim();
}

/** Validates `env` into a Config. Pure apart from creating the key file in embedded mode. */
export function loadConfig(env: Env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(variable, issue.message);
  }
  const e = parsed.data;
  const mode = e.DATABASE_URL && e.REDIS_URL ? 'scaled' : 'embedded';
  const dataDir = resolve(e.GRIDFLOW_DATA_DIR ?? join(REPO_ROOT, '.data'));

  let keyText = e.GRIDFLOW_ENCRYPTION_KEY;
  let keySource: Config['keySource'] = 'env';
  if (!keyText) {
    if (mode === 'scaled') {
      throw new ConfigError(
        'GRIDFLOW_ENCRYPTION_KEY',
        'is required in scaled mode (DATABASE_URL and REDIS_URL set): every process must share it. ' +
          "Generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('base64'))\"",
      );
    }
    keyText = loadOrCreateKeyFile(dataDir);
    keySource = 'file';
  }
  let keyring: Keyring;
  try {
    keyring = parseKeyring(keyText);
  } catch (err) {
    const where = keySource === 'file' ? ` (read from ${join(dataDir, KEY_FILE)})` : '';
    throw new ConfigError('GRIDFLOW_ENCRYPTION_KEY', (err as Error).message + where);
  }

  const platformUrls: Config['platformUrls'] = {};
  if (e.GRIDFLOW_PLATFORM_LINKEDIN_URL) platformUrls.linkedin = e.GRIDFLOW_PLATFORM_LINKEDIN_URL;
  if (e.GRIDFLOW_PLATFORM_X_URL) platformUrls.x = e.GRIDFLOW_PLATFORM_X_URL;
  if (e.GRIDFLOW_PLATFORM_FACEBOOK_URL) platformUrls.facebook = e.GRIDFLOW_PLATFORM_FACEBOOK_URL;
  if (e.GRIDFLOW_PLATFORM_INSTAGRAM_URL) platformUrls.instagram = e.GRIDFLOW_PLATFORM_INSTAGRAM_URL;

  return Object.freeze({
    mode,
    databaseUrl: e.DATABASE_URL,
    dbPoolSize: e.GRIDFLOW_DB_POOL_SIZE,
    pgliteThread: e.GRIDFLOW_PGLITE_THREAD,
    pgliteVacuumMinutes: e.GRIDFLOW_PGLITE_VACUUM_MINUTES,
    redisUrl: e.REDIS_URL,
    port: e.PORT,
    host: e.HOST,
    dataDir,
    keyring,
    keySource,
    openaiApiKey: e.OPENAI_API_KEY,
    openaiBaseUrl: e.OPENAI_BASE_URL,
    publicUrl: (e.GRIDFLOW_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    httpAllowPrivate: e.GRIDFLOW_HTTP_ALLOW_PRIVATE,
    platformUrls,
    logLevel: e.LOG_LEVEL,
    workers: e.GRIDFLOW_WORKERS,
    hookRateLimit: e.GRIDFLOW_HOOK_RATE_LIMIT,
    sessionSecret: e.GRIDFLOW_SESSION_SECRET,
  } satisfies Config);
}

let cached: Config | undefined;

/** The process configuration, read from process.env on first call. */
export function getConfig(): Config {
  cached ??= loadConfig(process.env);
  return cached;
}

/** Forget the cached config so the next getConfig() re-reads process.env. */
export function resetConfigForTests(): void {
  cached = undefined;
}
