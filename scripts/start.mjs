#!/usr/bin/env node
// `npm start`: builds the editor when its bundle is missing or older than its sources, then runs
// the server (server/src/main.ts) with tsx. The server opens (and migrates) the database itself.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => console.log(`[start] ${msg}`);

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`[start] Node ${process.versions.node} is too old: Gridflow needs Node >= 20.19.`);
  process.exit(1);
}

/** Newest mtime (ms) of the files under `paths`, skipping tests, node_modules and dist. */
function newestMtime(paths) {
  let newest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const entry of readdirSync(p)) {
        if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
        visit(join(p, entry));
      }
    } else if (!/\.test\.[cm]?[jt]sx?$/.test(p)) {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  paths.forEach(visit);
  return newest;
}

function buildEditorIfNeeded() {
  const editor = join(root, 'editor');
  if (!existsSync(join(editor, 'package.json')) || !existsSync(join(editor, 'index.html'))) {
    log('no editor app yet (editor/index.html missing): starting the API server only');
    return;
  }
  const bundle = join(editor, 'dist', 'index.html');
  // The editor bundles browser-safe parts of runtime and nodes too.
  const sources = [
    'editor/src',
    'editor/index.html',
    'editor/vite.config.ts',
    'editor/package.json',
    'runtime/src',
    'nodes/src',
  ].map((p) => join(root, p));
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestMtime(sources)) {
    log('editor bundle is up to date');
    return;
  }
  log(
    existsSync(bundle)
      ? 'editor sources changed: rebuilding the editor'
      : 'building the editor (first start)',
  );
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['run', 'build', '-w', '@gridflow/editor'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(
      '[start] the editor build failed (see above); fix it or run `npm run build -w @gridflow/editor`.',
    );
    process.exit(r.status ?? 1);
  }
}

const main = join(root, 'server', 'src', 'main.ts');
if (!existsSync(main)) {
  console.error(
    '[start] server/src/main.ts does not exist yet: the server workspace (@gridflow/server) provides it.',
  );
  console.error(
    '[start] Nothing to start. The database and the editor build are ready to use once it exists.',
  );
  process.exit(1);
}

buildEditorIfNeeded();

log('starting the server (node --no-node-snapshot --import tsx server/src/main.ts)');
const child = spawn(
  process.execPath,
  ['--no-node-snapshot', '--import', 'tsx', main, ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('close', (code, signal) => {
  process.exit(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
});
