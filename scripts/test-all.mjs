#!/usr/bin/env node
// Runs every workspace's tests (Vitest; Playwright for e2e/ when it has a config), one suite after
// another, streaming their output. Ends with exactly one line `N passed, N failed` (totals over all
// suites; a suite that crashes or reports nothing counts as failed) and exits non-zero on any failure.
//
// Usage: node scripts/test-all.mjs [workspace-folder ...]   (default: all, in dependency order)
// Env:   GRIDFLOW_TEST_SUITE_TIMEOUT_MS  per-suite time limit (default 15 min)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ORDER = ['prisma', 'runtime', 'nodes', 'templates', 'server', 'editor', 'e2e'];
const FAULTS_CONFIG = 'vitest.faults.config.ts';
const SUITE_TIMEOUT_MS = Number(process.env.GRIDFLOW_TEST_SUITE_TIMEOUT_MS ?? 15 * 60_000);

const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const declared = rootPkg.workspaces ?? [];
const selected = process.argv.slice(2).map((a) => a.replace(/\/+$/, ''));
const folders = [
  ...ORDER.filter((w) => declared.includes(w)),
  ...declared.filter((w) => !ORDER.includes(w)),
].filter((w) => selected.length === 0 || selected.includes(w));

const vitestBin = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const playwrightBin = join(root, 'node_modules', '@playwright', 'test', 'cli.js');
const reportDir = mkdtempSync(join(tmpdir(), 'gridflow-test-all-'));

/** Runs a command with inherited stdio; resolves with its exit code (or 'timeout'). */
function runStreaming(cmd, args, opts) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { stdio: 'inherit', ...opts });
    const timer = setTimeout(() => {
      console.error(
        `\n[test-all] ${opts.label}: no result after ${SUITE_TIMEOUT_MS / 1000} s, stopping it`,
      );
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, SUITE_TIMEOUT_MS);
    child.on('error', (err) => {
      console.error(`[test-all] ${opts.label}: could not start: ${err.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise(code ?? (signal ? 128 : 1));
    });
  });
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Counts from Vitest's JSON report: tests, plus one failure per file that failed without a failed test (load/crash errors). */
function vitestCounts(report) {
  let passed = report.numPassedTests ?? 0;
  let failed = report.numFailedTests ?? 0;
  for (const file of report.testResults ?? []) {
    const failedInside = (file.assertionResults ?? []).some((a) => a.status === 'failed');
    if (file.status === 'failed' && !failedInside) failed += 1;
  }
  return { passed, failed };
}

async function runVitest(folder, config) {
  const cwd = join(root, folder);
  const out = join(reportDir, `${folder}${config ? '-faults' : ''}.json`);
  const code = await runStreaming(
    process.execPath,
    [
      vitestBin,
      'run',
      ...(config ? ['--config', config] : []),
      '--passWithNoTests',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${out}`,
    ],
    { cwd, label: folder, env: process.env },
  );
  const report = readJson(out);
  if (!report) return { passed: 0, failed: 1, note: `crashed (exit ${code}) without a report` };
  const counts = vitestCounts(report);
  if (code !== 0 && counts.failed === 0)
    return { ...counts, failed: 1, note: `exited ${code} after its tests` };
  return counts;
}

async function runPlaywright(folder) {
  const cwd = join(root, folder);
  const out = join(reportDir, `${folder}-playwright.json`);
  const code = await runStreaming(
    process.execPath,
    [playwrightBin, 'test', '--reporter=list,json'],
    {
      cwd,
      label: folder,
      env: {
        ...process.env,
        PLAYWRIGHT_JSON_OUTPUT_NAME: out,
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
      },
    },
  );
  const report = readJson(out);
  if (!report?.stats)
    return { passed: 0, failed: 1, note: `crashed (exit ${code}) without a report` };
  const s = report.stats;
  const passed = (s.expected ?? 0) + (s.flaky ?? 0);
  let failed = s.unexpected ?? 0;
  if ((report.errors ?? []).length > 0 && failed === 0) failed = 1; // e.g. global setup failed
  if (code !== 0 && failed === 0) return { passed, failed: 1, note: `exited ${code}` };
  return { passed, failed };
}

function hasPlaywrightConfig(folder) {
  return ['playwright.config.ts', 'playwright.config.mjs', 'playwright.config.js'].some((f) =>
    existsSync(join(root, folder, f)),
  );
}
function hasVitest(folder) {
  const dir = join(root, folder);
  if (
    ['vitest.config.ts', 'vitest.config.mjs', 'vitest.config.js'].some((f) =>
      existsSync(join(dir, f)),
    )
  )
    return true;
  const pkg = readJson(join(dir, 'package.json'));
  return /\bvitest\b/.test(pkg?.scripts?.test ?? '');
}

const results = [];

// `npm ci` (CI) refuses a lockfile that lost platform entries the registry mirror does not serve;
// an `npm install` here drops them again. Checked first so that it is not noticed only in CI.
if (selected.length === 0) {
  const check = spawnSync(
    process.execPath,
    [join(root, 'scripts', 'fix-lockfile.mjs'), '--check'],
    {
      stdio: 'inherit',
    },
  );
  results.push({
    suite: 'package-lock (npm ci)',
    passed: check.status === 0 ? 1 : 0,
    failed: check.status === 0 ? 0 : 1,
    seconds: 0,
  });
}

for (const folder of folders) {
  const suites = [];
  if (hasVitest(folder)) suites.push(['vitest', runVitest]);
  if (hasPlaywrightConfig(folder)) suites.push(['playwright', runPlaywright]);
  if (suites.length === 0) {
    console.log(`\n[test-all] ${folder}: no tests yet, skipped`);
    continue;
  }
  for (const [kind, run] of suites) {
    console.log(`\n[test-all] ==== ${folder} (${kind}) ====`);
    const started = Date.now();
    let r;
    try {
      r = await run(folder);
    } catch (err) {
      r = { passed: 0, failed: 1, note: `runner error: ${err.message}` };
    }
    r.seconds = Math.round((Date.now() - started) / 1000);
    results.push({ suite: `${folder} (${kind})`, ...r });
  }
}
// Fault injection and hostile input (issue 8): each workspace's `vitest.faults.config.ts`, after
// every other suite, one at a time (these tests restart the shared Redis and PostgreSQL).
for (const folder of folders) {
  if (!existsSync(join(root, folder, FAULTS_CONFIG))) continue;
  console.log(`\n[test-all] ==== ${folder} (faults) ====`);
  const started = Date.now();
  let r;
  try {
    r = await runVitest(folder, FAULTS_CONFIG);
  } catch (err) {
    r = { passed: 0, failed: 1, note: `runner error: ${err.message}` };
  }
  r.seconds = Math.round((Date.now() - started) / 1000);
  results.push({ suite: `${folder} (faults)`, ...r });
}
rmSync(reportDir, { recursive: true, force: true });

console.log('\n[test-all] summary');
for (const r of results) {
  const line = `  ${r.suite.padEnd(24)} ok ${String(r.passed).padStart(5)}  not ok ${String(r.failed).padStart(4)}  ${String(r.seconds).padStart(4)} s`;
  console.log(line + (r.note ? `  ${r.note}` : ''));
}
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
