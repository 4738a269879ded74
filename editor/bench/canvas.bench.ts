/**
 * Canvas bench: builds the editor, serves editor/dist, opens bench.html (the real canvas node
 * component with a generated 1,000-node / 1,200-edge grid) in Debian chromium via playwright-core
 * and measures time to first render and frame times while panning and zooming.
 * Prints one JSON line per measurement. Run: node --import tsx editor/bench/canvas.bench.ts
 */
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const editorDir = fileURLToPath(new URL('..', import.meta.url));
const dist = join(editorDir, 'dist');
const NODES = Number(process.env.BENCH_NODES ?? 1000);
const EDGES = Number(process.env.BENCH_EDGES ?? 1200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** BENCH_VISIBLE_ONLY=0 renders every node (compare with React Flow's onlyRenderVisibleElements). */
const VISIBLE_ONLY = process.env.BENCH_VISIBLE_ONLY !== '0';
const MINIMAP = process.env.BENCH_MINIMAP !== '0';
/** BENCH_DEFER=0 hands the nodes to React Flow in its first render (the editor did so before). */
const DEFER = process.env.BENCH_DEFER !== '0';
/** BENCH_ESTIMATE=0 hands nodes over without estimated size/handles (see src/canvas/node-geometry.ts). */
const ESTIMATE = process.env.BENCH_ESTIMATE !== '0';

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.json': 'application/json', '.svg': 'image/svg+xml' };

function emit(o: Record<string, unknown>) {
  console.log(JSON.stringify({ bench: 'editor.canvas', ...o }));
}

async function serve(): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    try {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
      const file = join(dist, path === '/' ? 'index.html' : path);
      if (!file.startsWith(dist) || !(await stat(file)).isFile()) throw new Error('nf');
      res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
      res.end(await readFile(file));
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no port');
  return { server, url: `http://127.0.0.1:${addr.port}` };
}

function stats(intervals: number[]) {
  const s = [...intervals].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  const total = intervals.reduce((a, b) => a + b, 0);
  return {
    frames: intervals.length,
    fps: total ? Math.round((intervals.length / total) * 1000 * 10) / 10 : 0,
    p50Ms: Math.round(q(0.5) * 10) / 10,
    p95Ms: Math.round(q(0.95) * 10) / 10,
    maxMs: Math.round((s[s.length - 1] ?? 0) * 10) / 10,
    longFrames: intervals.filter((x) => x > 50).length,
  };
}

async function main() {
  if (process.env.BENCH_SKIP_BUILD !== '1') {
    const t = Date.now();
    execFileSync('npx', ['vite', 'build', '--logLevel', 'error'], { cwd: editorDir, stdio: ['ignore', 'ignore', 'inherit'] });
    emit({ metric: 'build', ms: Date.now() - t });
  }
  const { server, url } = await serve();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    // Machine-load yardstick: a fixed CPU-bound loop in the same browser, with the load average, so
    // that runs on a busy machine (other suites on the same 2 cores) can be told apart from idle ones.
    {
      const page = await browser.newPage();
      await page.goto(`${url}/bench.html?nodes=1&edges=0`);
      const ms = (await page.evaluate(`(() => { const t = performance.now(); let x = 0; for (let i = 0; i < 3e7; i++) x = (x + i * 7) % 1000003; return performance.now() - t + (x < 0 ? 1 : 0); })()`)) as number;
      const load = (await import('node:os')).loadavg()[0];
      emit({ metric: 'cpu-yardstick', loopMs: Math.round(ms), loadAverage1m: Math.round((load ?? 0) * 10) / 10, cores: (await import('node:os')).cpus().length });
      await page.close();
    }
    for (let round = 1; round <= ROUNDS; round++) {
      const fit = round % 2 === 0; // alternate: editor default view (odd rounds) / fit everything (even)
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${url}/bench.html?nodes=${NODES}&edges=${EDGES}&fit=${fit ? 1 : 0}&visible=${VISIBLE_ONLY ? 1 : 0}&minimap=${MINIMAP ? 1 : 0}&defer=${DEFER ? 1 : 0}&estimate=${ESTIMATE ? 1 : 0}`);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
      // Let the fitView settle, then the number of rendered nodes.
      await page.waitForTimeout(300);
      const open = await page.evaluate(() => ({
        sinceNavigationMs: Math.round(performance.getEntriesByType('navigation')[0] ? performance.now() : 0),
        firstRenderSinceScriptMs: Math.round(window.__bench?.firstRender ?? -1),
        domNodes: document.querySelectorAll('.react-flow__node').length,
        domEdges: document.querySelectorAll('.react-flow__edge').length,
      }));
      const firstRenderMs = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
        return Math.round((nav ? 0 : 0) + (window.__bench!.start + (window.__bench!.firstRender ?? 0)));
      });
      emit({ metric: 'open', round, view: fit ? 'fit-all' : 'editor-default', visibleOnly: VISIBLE_ONLY, minimap: MINIMAP, defer: DEFER, estimate: ESTIMATE, nodes: NODES, edges: EDGES, timeToFirstRenderMs: firstRenderMs, renderAfterScriptMs: open.firstRenderSinceScriptMs, renderedNodes: open.domNodes, renderedEdges: open.domEdges, targetMs: 2000, ok: firstRenderMs < 2000 });

      const measure = async (name: string, action: () => Promise<void>) => {
        // A string, not a function: tsx's keepNames helpers (__name) do not exist in the page.
        await page.evaluate(`(() => {
          window.__frames = [];
          window.__rec = true;
          let last = performance.now();
          const tick = (t) => { window.__frames.push(t - last); last = t; if (window.__rec) requestAnimationFrame(tick); };
          requestAnimationFrame((t) => { last = t; requestAnimationFrame(tick); });
        })()`);
        await action();
        const frames = (await page.evaluate(`(() => { window.__rec = false; return window.__frames; })()`)) as number[];
        emit({ metric: name, round, view: fit ? 'fit-all' : 'editor-default', visibleOnly: VISIBLE_ONLY, minimap: MINIMAP, ...stats(frames.slice(1)) });
      };

      const pane = await page.locator('.react-flow__pane').boundingBox();
      if (!pane) throw new Error('no pane');
      const cx = pane.x + pane.width / 2;
      const cy = pane.y + pane.height / 2;
      await page.mouse.move(cx, cy);
      await page.waitForTimeout(300);
      await measure('pan', async () => {
        await page.mouse.move(cx, cy);
        await page.mouse.down();
        for (let i = 0; i < 90; i++) {
          await page.mouse.move(cx - i * 8, cy - i * 3);
          await page.waitForTimeout(16);
        }
        await page.mouse.up();
      });
      await measure('zoom', async () => {
        for (let i = 0; i < 40; i++) {
          await page.mouse.wheel(0, i < 20 ? 120 : -120);
          await page.waitForTimeout(16);
        }
      });
      if (errors.length) emit({ metric: 'errors', round, errors: errors.slice(0, 5) });
      await page.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
