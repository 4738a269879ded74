/**
 * `npm run bench`: finds every workspace's `bench/*.bench.ts` and runs them one after another, each
 * in its own process (benches must not disturb each other), passing their JSON lines through.
 * Filter: `npm run bench -- runtime` runs only files whose path contains "runtime".
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  workspaces: string[];
};
const filters = process.argv.slice(2);

const files: string[] = [];
for (const ws of pkg.workspaces) {
  const dir = join(root, ws, 'bench');
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.bench.ts')) files.push(join(dir, f));
}
const selected = files.filter(
  (f) => filters.length === 0 || filters.some((x) => relative(root, f).includes(x)),
);
let failed = 0;
for (const file of selected) {
  const rel = relative(root, file);
  process.stderr.write(`# ${rel}\n`);
  const r = spawnSync(process.execPath, ['--no-node-snapshot', '--import', 'tsx', file], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(
      `${JSON.stringify({ bench: rel, error: `exited with ${r.status ?? r.signal}` })}\n`,
    );
  }
}
process.exit(failed ? 1 : 0);
