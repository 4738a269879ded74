/**
 * Installs a peer (Node-RED, n8n) from the npm registry into a cache folder outside the repository,
 * once: `~/.cache/gridflow-peers/<name>-<version>` (or `--cache-dir`). A marker file records a
 * finished install; later runs reuse it. A lock file keeps two benchmark runs from installing into
 * the same folder at once.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, sleep } from './proc.js';

export interface PeerPackage {
  /** npm package name, e.g. `node-red`. */
  pkg: string;
  version: string;
  /** npm `overrides` (n8n needs xlsx pinned to the registry's 0.18.5). */
  overrides?: Record<string, string>;
  /** Bound on the install; n8n compiles sqlite3 from source (~4 min alone on 2 cores). */
  timeoutMs: number;
}

export function defaultCacheDir(): string {
  return path.join(os.homedir(), '.cache', 'gridflow-peers');
}

const MARKER = '.gridflow-installed';

export async function ensurePeer(cacheDir: string, peer: PeerPackage, log: (m: string) => void): Promise<string> {
  const dir = path.join(cacheDir, `${peer.pkg}-${peer.version}`);
  const wanted = JSON.stringify({ pkg: peer.pkg, version: peer.version, overrides: peer.overrides ?? {} });
  const marker = path.join(dir, MARKER);
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return dir;

  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, '.install.lock');
  const deadline = Date.now() + peer.timeoutMs;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return dir;
      if (Date.now() > deadline) throw new Error(`${dir}: another install holds ${lock}; remove it if stale`);
      await sleep(2000);
    }
  }
  try {
    log(`installing ${peer.pkg}@${peer.version} into ${dir} (once; can take minutes)`);
    writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify(
        {
          name: `gridflow-peer-${peer.pkg}`,
          private: true,
          dependencies: { [peer.pkg]: peer.version },
          ...(peer.overrides ? { overrides: peer.overrides } : {}),
        },
        null,
        2,
      ),
    );
    const t0 = Date.now();
    await run('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--loglevel=warn'], {
      cwd: dir,
      timeoutMs: peer.timeoutMs,
      logFile: path.join(dir, 'install.log'),
      // `npm run` exports the repository's npm settings (workspaces, prefix) as npm_* variables:
      // they must not leak into the peer's own install.
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_'))),
    });
    writeFileSync(marker, wanted);
    log(`installed ${peer.pkg}@${peer.version} in ${Math.round((Date.now() - t0) / 1000)} s`);
    return dir;
  } finally {
    rmSync(lock, { force: true });
  }
}
