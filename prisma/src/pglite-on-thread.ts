/**
 * Embedded PGlite on its own thread. PGlite runs PostgreSQL compiled to WebAssembly on the thread
 * that calls it, so in one process the database and the HTTP server, the engine and the sandbox took
 * turns on one core. `PgliteOnThread` moves the database to a worker_thread (pglite-thread.mjs) and
 * keeps PGlite's API here: it is a PGlite `BasePGlite` whose wire-protocol exchanges are posted to
 * that thread, so `query`, `exec`, `transaction`, the prepared statements of sql-pglite.ts and the
 * Prisma adapter work on it unchanged, and PostgreSQL's answers are parsed here by PGlite's own
 * parser (the same DatabaseError class, notices and result types as in-process).
 *
 * The locks that keep a transaction's statements together stay on this side: every caller in the
 * process goes through this one object, and the thread runs exchanges one at a time, in order.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  Mutex,
  PGlite,
  protocol,
  type ExecProtocolOptions,
  type ExecProtocolResult,
  type Transaction,
} from '@electric-sql/pglite';

type BackendMessage = Parameters<Parameters<InstanceType<typeof protocol.Parser>['parse']>[1]>[0];
type Notice = InstanceType<typeof protocol.messages.NoticeMessage>;

/** What PGlite's base class provides on top of the abstract members implemented below. */
type PgliteBase = Pick<
  PGlite,
  | 'serializers'
  | 'parsers'
  | 'query'
  | 'sql'
  | 'exec'
  | 'transaction'
  | 'describeQuery'
  | 'runExclusive'
  | 'refreshArrayTypes'
  | '_initArrayTypes'
>;

/**
 * PGlite's abstract base class (query, exec, transaction, describeQuery, type parsers and
 * serializers, all built on `execProtocol`). The package does not export it by name; it is the
 * prototype of the PGlite class.
 */
const BasePGlite = Object.getPrototypeOf(PGlite) as abstract new () => PgliteBase;

interface Pending {
  resolve: (data: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface ThreadError {
  name: string;
  message: string;
  stack?: string;
}

function toError(e: ThreadError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

/** The global WebAssembly object (this workspace's TypeScript libs declare only its types). */
const wasm = (
  globalThis as unknown as {
    WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> };
  }
).WebAssembly;

let compiled: Promise<{ pglite: WebAssembly.Module; initdb: WebAssembly.Module }> | undefined;

/**
 * PGlite's two WebAssembly modules, compiled once per process and handed to each thread (a compiled
 * module can be shared between threads): a new thread would otherwise compile 9 MB of WebAssembly
 * again, which took longer than opening a test database from its snapshot.
 */
function compiledModules() {
  compiled ??= (async () => {
    const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const [pglite, initdb] = await Promise.all(
      ['pglite.wasm', 'initdb.wasm'].map(async (f) => wasm.compile(await readFile(join(dist, f)))),
    );
    return { pglite: pglite!, initdb: initdb! };
  })().catch((err) => {
    compiled = undefined;
    throw err;
  });
  return compiled;
}

export interface PgliteOnThreadOptions {
  /** Data directory, or `memory://` for an in-memory database. */
  dataDir: string;
  /** A dumped data directory (`PGlite.dumpDataDir()`) to start from instead of running initdb. */
  loadDataDir?: Blob;
  /**
   * Called once if the thread stops other than by `close()` (a crash): every statement fails from
   * then on, so a server should exit and be restarted.
   */
  onLost?: (reason: Error) => void;
}

export class PgliteOnThread extends BasePGlite {
  debug = 0 as const;
  readonly waitReady: Promise<void>;
  #worker: Worker;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  /** Why the thread is gone (crashed, or closed); every later exchange fails with it. */
  #stopped: Error | undefined;
  #closing: Promise<void> | undefined;
  #queryMutex = new Mutex();
  #transactionMutex = new Mutex();

  private constructor(worker: Worker, started: Promise<void>) {
    super();
    this.#worker = worker;
    this.waitReady = started;
  }

  /** Starts the thread and opens the database there (initdb on an empty data directory). */
  static async create(opts: PgliteOnThreadOptions): Promise<PgliteOnThread> {
    const loadDataDir = opts.loadDataDir ? await opts.loadDataDir.arrayBuffer() : undefined;
    const modules = await compiledModules();
    const worker = new Worker(new URL('./pglite-thread.mjs', import.meta.url), {
      workerData: {
        dataDir: opts.dataDir,
        loadDataDir,
        pgliteWasmModule: modules.pglite,
        initdbWasmModule: modules.initdb,
      },
      transferList: loadDataDir ? [loadDataDir] : [],
    });
    let db!: PgliteOnThread;
    const started = new Promise<void>((resolve, reject) => {
      const onStart = (m: { op?: string; error?: ThreadError }) => {
        if (m.op === 'ready') resolve();
        else if (m.op === 'failed') reject(toError(m.error!));
        else return;
        worker.off('message', onStart);
      };
      worker.on('message', onStart);
      worker.once('error', reject);
      worker.once('exit', (code) =>
        reject(new Error(`the embedded database thread exited during start-up (code ${code})`)),
      );
    });
    db = new PgliteOnThread(worker, started);
    worker.on('message', (m: { id?: number; data?: Uint8Array; error?: ThreadError }) => {
      if (m.id === undefined) return;
      const p = db.#pending.get(m.id);
      if (!p) return;
      db.#pending.delete(m.id);
      if (db.#pending.size === 0) worker.unref();
      if (m.error) p.reject(toError(m.error));
      else p.resolve(m.data!);
    });
    try {
      await started;
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    // From here on (not during start-up, whose failure create() throws): a loss of the thread.
    const lost = (reason: Error) => {
      if (db.#stopped) return; // closed, or already reported
      db.#stop(reason);
      opts.onLost?.(reason);
    };
    worker.on('error', lost);
    worker.on('exit', (code) =>
      lost(new Error(`the embedded database thread stopped (exit code ${code})`)),
    );
    // Idle, the thread does not keep the process alive; a pending exchange does.
    worker.unref();
    // As PGlite does at the end of its start-up: parsers and serializers for array types.
    await db._initArrayTypes();
    return db;
  }

  #stop(reason: Error) {
    this.#stopped ??= reason;
    for (const p of this.#pending.values()) p.reject(reason);
    this.#pending.clear();
  }

  #post(op: 'exec' | 'close', extra: Record<string, unknown>): Promise<Uint8Array> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, op, ...extra });
    });
  }

  async _checkReady(): Promise<void> {
    await this.waitReady;
    if (this.#stopped) throw this.#stopped;
  }

  execProtocolRaw(
    message: Uint8Array,
    { syncToFs = true }: ExecProtocolOptions = {},
  ): Promise<Uint8Array> {
    return this.#post('exec', { message, syncToFs });
  }

  async execProtocolRawStream(
    message: Uint8Array,
    { syncToFs = true, onRawData }: ExecProtocolOptions & { onRawData: (data: Uint8Array) => void },
  ): Promise<void> {
    onRawData(await this.execProtocolRaw(message, { syncToFs }));
  }

  /**
   * Like PGlite's: the messages of the answer, up to and including the first error, which is thrown
   * (unless `throwOnError` is false); notices go to `onNotice`.
   */
  async execProtocol(
    message: Uint8Array,
    { syncToFs = true, throwOnError = true, onNotice }: ExecProtocolOptions = {},
  ): Promise<ExecProtocolResult> {
    const data = await this.execProtocolRaw(message, { syncToFs });
    const messages: BackendMessage[] = [];
    let databaseError: BackendMessage | undefined;
    new protocol.Parser().parse(data, (msg) => {
      if (databaseError) return;
      if (msg instanceof protocol.messages.DatabaseError) {
        if (throwOnError) databaseError = msg;
      } else if (msg instanceof protocol.messages.NoticeMessage) {
        onNotice?.(msg as Notice);
      }
      messages.push(msg);
    });
    if (databaseError) throw databaseError;
    return { messages, data } as ExecProtocolResult;
  }

  async execProtocolStream(
    message: Uint8Array,
    options: ExecProtocolOptions = {},
  ): Promise<ExecProtocolResult['messages']> {
    return (await this.execProtocol(message, options)).messages;
  }

  /** Nothing to do here: the thread syncs after each exchange that asks for it. */
  async syncToFs(): Promise<void> {}

  // Files attached to queries (COPY … '/dev/blob') are not supported on the thread.
  async _handleBlob(blob?: Blob): Promise<void> {
    if (blob) throw new Error('the embedded database thread does not take query blobs');
  }
  async _getWrittenBlob(): Promise<undefined> {
    return undefined;
  }
  async _cleanupBlob(): Promise<void> {}

  _runExclusiveQuery<T>(fn: () => Promise<T>): Promise<T> {
    return this.#queryMutex.runExclusive(fn);
  }

  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.#transactionMutex.runExclusive(fn);
  }

  async listen(
    _channel: string,
    _callback: (payload: string) => void,
    _tx?: Transaction,
  ): Promise<never> {
    throw new Error('LISTEN is not supported on the embedded database thread');
  }

  /** Ends the thread abruptly, as a crash would (tests of what callers then see). */
  async terminateThreadForTests(): Promise<void> {
    await this.#worker.terminate();
  }

  /** Waits for running statements and transactions, closes the database and ends the thread. */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      await this.waitReady.catch(() => undefined);
      await this.#transactionMutex.runExclusive(() =>
        this.#queryMutex.runExclusive(async () => {
          if (this.#stopped) return;
          try {
            await this.#post('close', {});
          } finally {
            this.#stop(new Error('the embedded database is closed'));
            await this.#worker.terminate();
          }
        }),
      );
    })());
  }
}
