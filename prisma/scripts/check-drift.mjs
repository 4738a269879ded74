#!/usr/bin/env node
// Fails (exit 1) when schema.prisma and prisma/migrations disagree, i.e. someone changed the schema
// without `npm run migrate:dev -w @gridflow/db -- --name <change>`.
//
// `prisma migrate diff --exit-code` alone is useless here: it always reports the `vector` extension
// as added. So this runs the diff with --script, drops comments, blank lines and that one line, and
// fails if anything is left. The diff replays the migrations into a temporary shadow database
// created through the adapter in prisma.config.ts: it needs a reachable PostgreSQL (DATABASE_URL,
// default 127.0.0.1:5432 user postgres) with the CREATE DATABASE right.
//
// Usage: node prisma/scripts/check-drift.mjs [--schema path/to/schema.prisma]
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(pkgDir, 'package.json'));
const prismaCli = require.resolve('prisma/build/index.js');

const i = process.argv.indexOf('--schema');
const schema = i > 0 ? resolve(process.argv[i + 1]) : join(pkgDir, 'schema.prisma');

const sql = execFileSync(
  process.execPath,
  [
    prismaCli,
    'migrate',
    'diff',
    '--from-migrations',
    join(pkgDir, 'migrations'),
    '--to-schema-datamodel',
    schema,
    '--script',
  ],
  {
    cwd: pkgDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    // The diff only needs a connection that may create the shadow database: default to the
    // maintenance database, which every PostgreSQL has (gridflow_dev may not exist yet).
    env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres' },
  },
);
const left = sql
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('--') && l !== 'CREATE EXTENSION IF NOT EXISTS "vector";');
if (left.length) {
  console.error('Schema drift: schema.prisma differs from prisma/migrations:\n' + sql);
  process.exit(1);
}
console.log('No drift: schema.prisma matches prisma/migrations.');
