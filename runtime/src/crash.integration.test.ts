/**
 * Crash safety with real processes: two workers on PostgreSQL + BullMQ; one is SIGKILLed while
 * it runs steps. Every run still completes, and every step is completed exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDatabaseUrl, type Database } from '@gridflow/db';
import { createEngine } from './engine-impl.js';
import { grid } from './testing/grid-builder.js';
import {
  createSandbox,
  seedGrid,
  testRegistry,
  testServices,
  uniquePrefix,
} from './testing/engine-fixture.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const here = dirname(fileURLToPath(import.meta.url));

/** Runs a `testing/` entry point; resolves once it printed `until` on stdout. */
function startChild(script: string, args: string[], until: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--no-node-snapshot', '--import', 'tsx', join(here, 'testing', script), ...args],
    {
      cwd: join(here, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${script} did not start`)), 90_000);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(until)) {
        clearTimeout(t);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited early with ${code}`)));
  });
}

function startWorker(dbUrl: string, prefix: string): Promise<ChildProcess> {
  return startChild('test-worker-main.ts', [dbUrl, REDIS_URL, prefix, '4', '2000'], 'ready');
}

/** An engine in this process that only starts runs and watches them (no workers). */
async function watcher(db: Database, prefix: string) {
  const sandbox = createSandbox({ poolSize: 1 });
  const engine = createEngine({
    db,
    registry: testRegistry(),
    redisUrl: REDIS_URL,
    queuePrefix: prefix,
    workers: 0,
    services: testServices(sandbox),
    sweepIntervalMs: 500,
  });
  await engine.start();
  return {
    engine,
    async stop() {
      await engine.stop();
      sandbox.dispose();
    },
  };
}

describe('crash safety (2 worker processes, PostgreSQL + BullMQ)', () => {
  const children: ChildProcess[] = [];
  let db: Database | undefined;
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await db?.close();
  });

  it('a worker SIGKILLed mid-step loses nothing: every run completes, every step completes once', async () => {
    db = await createTestDatabase('postgres');
    const name = (await db.sql.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    const dbUrl = testDatabaseUrl(name);
    const prefix = uniquePrefix('crash');
    const marker = join(mkdtempSync(join(tmpdir(), 'gf-crash-')), 'marker.log');
    const [w1, w2] = await Promise.all([startWorker(dbUrl, prefix), startWorker(dbUrl, prefix)]);
    children.push(w1!, w2!);
    const w = await watcher(db, prefix);
    const engine = w.engine;
    try {
      const ids = await seedGrid(db);
      const document = grid(
        ['t', { id: 's', type: 'slow', config: { ms: 1500, marker } }, 'after'],
        ['t>s', 's>after'],
      );
      const runs = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          engine.startRun({
            ...ids,
            gridVersionId: null,
            document,
            triggerType: 'manual',
            triggerData: { i },
          }),
        ),
      );
      // Wait until the first worker is inside at least one slow step, then kill it.
      const victim = w1!;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        if (existsSync(marker) && readFileSync(marker, 'utf8').includes(` ${victim.pid}\n`)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const startedOnVictim = readFileSync(marker, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('start') && l.endsWith(` ${victim.pid}`))
        .map((l) => l.split(' ')[1]!);
      expect(startedOnVictim.length).toBeGreaterThan(0);
      victim.kill('SIGKILL');

      for (const r of runs) {
        const s = await engine.waitForCompletion(r.executionId, 60_000);
        expect(s?.status).toBe('completed');
        expect(s?.outputs.after).toMatchObject({ slept: 1500 });
      }
      const rows = await db.sql.query<{ id: string; status: string; n: number }>(
        `SELECT id, status, count(*) OVER (PARTITION BY execution_id, node_id, item_index)::int AS n FROM execution_steps`,
      );
      expect(rows.rows).toHaveLength(runs.length * 3);
      expect(rows.rows.every((r) => r.status === 'completed' && r.n === 1)).toBe(true);
      // The victim's steps were re-run by the survivor and completed there.
      const log = readFileSync(marker, 'utf8').split('\n');
      for (const sid of startedOnVictim) {
        expect(log).toContain(`done ${sid} ${w2!.pid}`);
      }
    } finally {
      await w.stop();
    }
  }, 180_000);

  it('a process running a sync run inline (an API server) SIGKILLed mid-step: a worker finishes the run, each step once', async () => {
    // A database of its own: the first test's surviving worker must not be the one that recovers.
    const db = await createTestDatabase('postgres');
    const name = (await db.sql.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    const dbUrl = testDatabaseUrl(name);
    const prefix = uniquePrefix('crash-inline');
    const marker = join(mkdtempSync(join(tmpdir(), 'gf-crash-inline-')), 'marker.log');
    const ids = await seedGrid(db);
    const document = grid(
      ['t', { id: 's', type: 'slow', config: { ms: 1500, marker } }, 'after'],
      ['t>s', 's>after'],
    );
    const inputs = Array.from({ length: 3 }, (_, i) => ({
      ...ids,
      gridVersionId: null,
      document,
      triggerType: 'manual',
      triggerData: { i },
    }));
    // The starter claims each run's slow step for itself at start (no queue job exists for it).
    const starter = await startChild(
      'test-starter-main.ts',
      [dbUrl, REDIS_URL, prefix, '2000', JSON.stringify(inputs)],
      'started',
    );
    children.push(starter);
    const deadline = Date.now() + 30_000;
    let started: string[] = [];
    while (Date.now() < deadline) {
      started = existsSync(marker)
        ? readFileSync(marker, 'utf8')
            .split('\n')
            .filter((l) => l.startsWith('start') && l.endsWith(` ${starter.pid}`))
        : [];
      if (started.length >= inputs.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(started).toHaveLength(inputs.length);
    starter.kill('SIGKILL');
    const executionIds = (
      await db.sql.query<{ id: string }>(`SELECT id FROM executions WHERE grid_id = $1`, [
        ids.gridId,
      ])
    ).rows.map((r) => r.id);
    expect(executionIds).toHaveLength(inputs.length);

    // Only now a worker exists: it re-runs the lost steps once their lease has expired.
    const worker = await startWorker(dbUrl, prefix);
    children.push(worker);
    const w = await watcher(db, prefix);
    const engine = w.engine;
    try {
      for (const id of executionIds) {
        const s = await engine.waitForCompletion(id, 60_000);
        expect(s?.status).toBe('completed');
        expect(s?.outputs.after).toMatchObject({ slept: 1500 });
      }
      const rows = await db.sql.query<{
        status: string;
        n: number;
        attempt: number;
        node_id: string;
      }>(
        `SELECT status, node_id, attempt, count(*) OVER (PARTITION BY execution_id, node_id, item_index)::int AS n
           FROM execution_steps WHERE execution_id = ANY($1::text[])`,
        [executionIds],
      );
      expect(rows.rows).toHaveLength(inputs.length * 3);
      expect(rows.rows.every((r) => r.status === 'completed' && r.n === 1)).toBe(true);
      // The killed step ran again as attempt 2, on the worker.
      expect(rows.rows.filter((r) => r.node_id === 's').every((r) => r.attempt === 2)).toBe(true);
      const log = readFileSync(marker, 'utf8').split('\n');
      for (const l of started) expect(log).toContain(`done ${l.split(' ')[1]} ${worker.pid}`);
    } finally {
      await w.stop();
      worker.kill('SIGTERM');
      await db.close();
    }
  }, 180_000);
});
