#!/usr/bin/env node
/**
 * Rebuilds isolated-vm's native addon after patch-package changed its C++ sources
 * (patches/isolated-vm+*.patch: its timer thread no longer wakes up once per finished call).
 * npm builds the addon before the root postinstall applies the patch, so it is built again here,
 * once: a stamp next to the binary records the patched source it was built from. Idempotent;
 * run by `postinstall` after `patch-package`.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dir = path.join(root, 'node_modules', 'isolated-vm');
const patched = path.join(dir, 'src', 'lib', 'timer.cc');
const binary = path.join(dir, 'out', 'isolated_vm.node');
const stamp = path.join(dir, 'out', '.gridflow-patched');
const MARKER = 'Stay a while for the next timer';

if (!existsSync(patched)) process.exit(0); // not installed (e.g. a partial install)
const source = readFileSync(patched, 'utf8');
if (!source.includes(MARKER)) {
  console.warn('[rebuild-patched-natives] isolated-vm is not patched; keeping its build as it is');
  process.exit(0);
}
const hash = createHash('sha256').update(source).digest('hex');
if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash)
  process.exit(0);

// npm passes its bundled node-gyp to lifecycle scripts; else find it next to npm itself.
const gyp =
  process.env.npm_config_node_gyp ||
  (process.env.npm_execpath
    ? path.join(
        path.dirname(path.dirname(process.env.npm_execpath)),
        'node_modules',
        'node-gyp',
        'bin',
        'node-gyp.js',
      )
    : '');
if (!gyp || !existsSync(gyp)) {
  console.error('[rebuild-patched-natives] node-gyp not found (run through npm install / npm ci)');
  process.exit(1);
}
console.log(
  '[rebuild-patched-natives] building isolated-vm with its patched timer (about a minute)',
);
const run = (args) => {
  try {
    execFileSync(process.execPath, [gyp, ...args], {
      cwd: dir,
      stdio: 'pipe',
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    // The compiler's output only when the build fails (its warnings are noise otherwise).
    process.stderr.write(
      `${String(err.stdout ?? '').slice(-20000)}${String(err.stderr ?? '').slice(-20000)}`,
    );
    throw err;
  }
};
run(['rebuild', '--release', '-j', 'max']);
run(['clean']);
writeFileSync(stamp, `${hash}\n`);
