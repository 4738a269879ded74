/**
 * Node-RED 4.1.15 (5.x needs Node >= 22.9), headless: loopback only, no admin API / editor, no
 * telemetry, no diagnostics endpoint. A fresh user folder and process per round.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePeer } from './install.js';
import { nodeRedFlows } from './flows/node-red.js';
import { HOST, freePort, httpJson, startProc, waitFor } from './proc.js';
import type { BenchContext, Round, System, Workload } from './system.js';

export const NODE_RED_VERSION = '4.1.15';

export function nodeRedSystem(): System {
  let installDir = '';
  let round = 0;
  return {
    name: 'node-red',
    version: NODE_RED_VERSION,
    store: 'none (Node-RED keeps no run store): completions counted by the flow itself in global context',
    async prepare(ctx) {
      installDir = await ensurePeer(
        ctx.cacheDir,
        { pkg: 'node-red', version: NODE_RED_VERSION, timeoutMs: 10 * 60_000 },
        ctx.log,
      );
    },
    async startRound(workload: Workload, ctx: BenchContext): Promise<Round> {
      const userDir = path.join(ctx.workDir, `node-red-${workload}-${++round}`);
      mkdirSync(userDir, { recursive: true });
      const port = await freePort();
      writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(nodeRedFlows(), null, 2));
      const settings = {
        uiHost: HOST,
        uiPort: port,
        userDir,
        flowFile: 'flows.json',
        credentialSecret: false,
        httpAdminRoot: false,
        httpNodeRoot: '/',
        disableEditor: true,
        diagnostics: { enabled: false, ui: false },
        telemetry: { enabled: false, updateNotification: false },
        runtimeState: { enabled: false, ui: false },
        externalModules: { autoInstall: false, palette: { allowInstall: false, allowUpload: false } },
        functionExternalModules: false,
        logging: { console: { level: 'warn', metrics: false, audit: false } },
      };
      const settingsFile = path.join(userDir, 'settings.js');
      writeFileSync(settingsFile, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
      const proc = startProc(
        'node-red',
        process.execPath,
        [path.join(installDir, 'node_modules/node-red/red.js'), '--settings', settingsFile, '--userDir', userDir],
        { cwd: userDir, logFile: path.join(userDir, 'node-red.log'), env: { ...process.env, NODE_RED_DISABLE_TELEMETRY: '1' } },
      );
      const base = `http://${HOST}:${port}`;
      const count = async () => {
        const r = await httpJson(`${base}/w3/count`);
        if (r.status !== 200) throw new Error(`GET /w3/count: HTTP ${r.status}`);
        return { completed: (r.body as { completed: number }).completed, failed: 0 };
      };
      await waitFor('node-red flows', async () => ((await count()).completed >= 0 ? true : undefined), {
        timeoutMs: 60_000,
        proc,
      });
      return { url: `${base}/${workload.toLowerCase()}`, count, stop: () => proc.stop(), groups: new Map([[proc.child.pid!, 'node-red']]) };
    },
  };
}
