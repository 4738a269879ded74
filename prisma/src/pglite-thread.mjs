// @ts-check
/**
 * The embedded database's own thread: one PGlite instance (with pgvector) in a worker_thread,
 * driven by `PgliteOnThread` (pglite-on-thread.ts) over the PostgreSQL wire protocol. It answers
 * each request with the raw bytes PostgreSQL wrote; parsing, locks and transactions stay with the
 * caller, so this file stays small and holds no state besides the database.
 *
 * Plain JavaScript on purpose: a worker thread does not inherit the TypeScript loader of its parent
 * (vitest, tsx), and this file needs none.
 *
 * Messages in:  { id, op: 'exec', message: Uint8Array, syncToFs: boolean } | { id, op: 'close' }
 * Messages out: { op: 'ready' } | { op: 'failed', error } (start-up),
 *               { id, data: Uint8Array } | { id, error }  (answers, in request order)
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
/** @type {{ dataDir: string, loadDataDir?: ArrayBuffer, pgliteWasmModule: WebAssembly.Module, initdbWasmModule: WebAssembly.Module }} */
const options = workerData;

/** @param {unknown} err */
const errorInfo = (err) =>
  err instanceof Error
    ? { name: err.name, message: err.message, stack: err.stack }
    : { name: 'Error', message: String(err) };

/** @param {Uint8Array[]} parts */
function concat(parts) {
  if (parts.length === 1) return /** @type {Uint8Array} */ (parts[0]);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** @type {PGlite} */
let db;
try {
  db = await PGlite.create(options.dataDir, {
    extensions: { vector },
    pgliteWasmModule: options.pgliteWasmModule,
    initdbWasmModule: options.initdbWasmModule,
    ...(options.loadDataDir ? { loadDataDir: new Blob([options.loadDataDir]) } : {}),
  });
} catch (err) {
  port.postMessage({ op: 'failed', error: errorInfo(err) });
  process.exit(1);
}

port.on('message', async (/** @type {any} */ req) => {
  if (req.op === 'close') {
    try {
      await db.close();
      port.postMessage({ id: req.id });
    } catch (err) {
      port.postMessage({ id: req.id, error: errorInfo(err) });
    }
    port.close();
    return;
  }
  try {
    // The stream form hands over PostgreSQL's output as it is written, without PGlite parsing it
    // here too: the caller parses it once.
    /** @type {Uint8Array[]} */
    const parts = [];
    await db.execProtocolRawStream(req.message, {
      syncToFs: req.syncToFs,
      onRawData: (bytes) => {
        parts.push(bytes.slice());
      },
    });
    const data = parts.length ? concat(parts) : new Uint8Array(0);
    port.postMessage({ id: req.id, data }, [data.buffer]);
  } catch (err) {
    port.postMessage({ id: req.id, error: errorInfo(err) });
  }
});
port.postMessage({ op: 'ready' });
