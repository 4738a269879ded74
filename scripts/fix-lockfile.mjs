#!/usr/bin/env node
// Restores lockfile entries for platform-specific optional dependencies that the npm registry
// mirror of these machines does not serve (e.g. turbo's @turbo/darwin-64 and @turbo/windows-64).
// Without them `npm ci` refuses the lockfile ("Missing: @turbo/darwin-64@ from lock file"), even on
// Linux where they would never be installed. The entries carry version, os and cpu only, as npm
// writes them for optional packages; on a matching platform npm fetches them by version.
//
// Run after any `npm install` that rewrote package-lock.json:  node scripts/fix-lockfile.mjs
// `--check` only reports (exit 1 when entries are missing).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const file = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'package-lock.json');
const lock = JSON.parse(readFileSync(file, 'utf8'));
const pkgs = lock.packages;

/** os/cpu from a platform package name like @turbo/darwin-arm64 or @esbuild/win32-x64. */
function platformOf(name) {
  const n = name.split('/').pop();
  const os = /darwin|macos/.test(n)
    ? 'darwin'
    : /win32|windows/.test(n)
      ? 'win32'
      : /linux/.test(n)
        ? 'linux'
        : /freebsd/.test(n)
          ? 'freebsd'
          : undefined;
  const cpu = /arm64|aarch64/.test(n)
    ? 'arm64'
    : /x64|-64$|amd64/.test(n)
      ? 'x64'
      : /ia32|-32$/.test(n)
        ? 'ia32'
        : undefined;
  return os && cpu ? { os, cpu } : undefined;
}

const added = [];
for (const [path, entry] of Object.entries(pkgs)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    // npm resolves a dependency next to the package first, then in the hoisted root.
    const nested = `${path}/node_modules/${dep}`;
    const hoisted = `node_modules/${dep}`;
    if (pkgs[nested] || pkgs[hoisted]) continue;
    const platform = platformOf(dep);
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) continue;
    pkgs[hoisted] = {
      version,
      cpu: [platform.cpu],
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      os: [platform.os],
    };
    added.push(`${dep}@${version}`);
  }
}

if (process.argv.includes('--check')) {
  if (added.length) {
    console.error(`package-lock.json lacks ${added.join(', ')}: run node scripts/fix-lockfile.mjs`);
    process.exit(1);
  }
  console.log('package-lock.json has every platform optional dependency');
} else if (added.length) {
  // npm keeps packages sorted by path, with the root ("") first.
  const sorted = Object.fromEntries(
    Object.entries(pkgs).sort(([a], [b]) =>
      a === '' ? -1 : b === '' ? 1 : a.localeCompare(b, 'en'),
    ),
  );
  lock.packages = sorted;
  writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
  console.log(`added to package-lock.json: ${added.join(', ')}`);
} else {
  console.log('package-lock.json is complete');
}
