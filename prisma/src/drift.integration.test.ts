import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const script = join(pkgDir, 'scripts', 'check-drift.mjs');

/** Runs scripts/check-drift.mjs (needs PostgreSQL on 127.0.0.1:5432 for its shadow database). */
async function checkDrift(args: string[] = []): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { cwd: pkgDir });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe('migrations drift check', () => {
  it('passes: schema.prisma and prisma/migrations agree', async () => {
    const { code, out } = await checkDrift();
    expect(out).toContain('No drift');
    expect(code).toBe(0);
  });

  it('fails when schema.prisma has a change without a migration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridflow-drift-'));
    try {
      const schema = readFileSync(join(pkgDir, 'schema.prisma'), 'utf8');
      const changed = schema.replace(
        /(model Workspace \{\n)/,
        '$1  driftProbe String? @map("drift_probe")\n',
      );
      expect(changed).not.toBe(schema);
      const file = join(dir, 'schema.prisma');
      writeFileSync(file, changed);
      const { code, out } = await checkDrift(['--schema', file]);
      expect(code).toBe(1);
      expect(out).toMatch(/ALTER TABLE "workspaces" ADD COLUMN\s+"drift_probe" TEXT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
