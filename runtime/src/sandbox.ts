/**
 * The sandbox shared by the code node and `{{ }}` expressions: isolated-vm 5 isolates, JSON in and
 * JSON out, no Node APIs.
 *
 * Invariants:
 * - A call gets a fresh Context (its own globals, prototypes and `Function`), so nothing leaks
 *   between runs; the Isolate (heap, compiled scripts) is pooled and used by one call at a time.
 *   Only calls that pass the same `reuseKey` (the code node: one workspace's grid node) with the same
 *   source may run in a context an earlier one of them used, which saves the ~0.7 ms of CPU a new
 *   context costs. Such a context is dropped after a timeout and never shared with any other key.
 * - Only strings cross the boundary: the variables go in as one JSON string, the result comes out as
 *   one JSON string that the host re-validates (size, `JSON.parse`). No References, no host objects.
 * - Anything that may leave an isolate in an unknown state (memory limit hit, a wall-clock timeout
 *   while a promise is pending, a catastrophic error) disposes it; the slot gets a new isolate on its
 *   next call, so the pool keeps serving.
 * - A call first runs on the caller's thread with a CPU budget of `syncBudgetMs` (no thread hop:
 *   ~0.05 ms for a small code step); the isolate has no timers or I/O, so the code's promise settles
 *   in that call's microtask checkpoint. Code that needs longer is stopped and run again, on a fresh
 *   context, on isolated-vm's threads with its full limit, so the event loop is never blocked for
 *   longer than the budget. Running again is invisible: code has no effects outside its context.
 *
 * Needs node to run with `--no-node-snapshot` (isolated-vm 5 on Node 20).
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import ivm from 'isolated-vm';
import { UserError } from './errors.js';
import type { Json, Sandbox, SandboxRunOptions } from './node-type.js';

export interface SandboxOptions {
  /** Isolates per memory size (each runs one call at a time). Default: available cores, at least 2. */
  poolSize?: number;
  /** Per call wall-clock limit. Default 1000 ms. */
  defaultTimeoutMs?: number;
  /** Isolate heap limit. Default 32 MB. */
  defaultMemoryMb?: number;
  /** Limit of the JSON-serialised result. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Compiled scripts kept per isolate (LRU). Default 256. */
  maxCachedScripts?: number;
  /**
   * Memory sizes kept warm at once (each size has its own isolates). Idle pools of other sizes are
   * disposed, least recently used first. Default 4.
   */
  maxPools?: number;
  /**
   * CPU budget of the fast path, which runs a call on the caller's thread (no thread hop). A call
   * that needs more starts again off the thread with its full limit, so the event loop is never
   * blocked for longer than this. 0 runs every call off the thread. Default 10 ms.
   */
  syncBudgetMs?: number;
  /** Contexts kept per isolate for calls with a `reuseKey`. 0 gives every call a fresh context. Default 32. */
  maxReusedContexts?: number;
}

export interface SandboxStats {
  isolatesCreated: number;
  isolatesDisposed: number;
  calls: number;
  scriptCacheHits: number;
  scriptCacheMisses: number;
  /** Calls that ran (or finished) off the caller's thread: over the sync budget, or still pending after it. */
  offThreadCalls: number;
  /** Calls that ran in a context kept from an earlier call with the same `reuseKey` and script. */
  contextsReused: number;
}

export interface SandboxInstance extends Sandbox {
  /** Creates the default pool's isolates (and their first contexts) ahead of the first calls. */
  prewarm(): Promise<void>;
  /** Disposes every isolate; pending and later calls fail. */
  dispose(): void;
  stats(): SandboxStats;
}

/** Codes of the `UserError`s the sandbox throws (`err.code`). */
export type SandboxErrorCode =
  | 'CODE_SYNTAX'
  | 'CODE_ERROR'
  | 'CODE_TIMEOUT'
  | 'CODE_MEMORY'
  | 'CODE_OUTPUT_TOO_LARGE'
  | 'CODE_OUTPUT_NOT_JSON'
  | 'CODE_BAD_VARIABLES';

type Kind = 'code' | 'expression';

/** Markers used by the in-isolate serialiser to report output problems to the host. */
const NOT_JSON = '\u0000GF_NOT_JSON\u0000';
const TOO_LARGE = '\u0000GF_TOO_LARGE\u0000';
/** What a code call returns while the code's promise is not settled yet (never valid JSON). */
const PENDING = '\u0000GF_PENDING\u0000';
/** Prefix of the error a call's variables could not be installed with (the context is unusable). */
const SETUP_FAILED = '\u0000GF_SETUP\u0000';
const FILENAMES: Record<Kind, string> = { code: 'code.js', expression: 'expression.js' };

/**
 * Runs once in every new Context: captures the built-ins the result serialiser needs (so user code
 * replacing `JSON` or `Promise.prototype.then` cannot break it) and defines the non-configurable
 * entry points. `__gf_setup()` runs before each call: it removes the previous call's variables and
 * installs this call's as globals with `defineProperty` (a `__proto__` key becomes a plain property,
 * never the global's prototype).
 */
const BOOTSTRAP = `(function (g) {
  'use strict';
  var stringify = JSON.stringify, parse = JSON.parse, apply = Reflect.apply, keysOf = Object.keys,
      then = Promise.prototype.then, P = Promise, resolveP = Promise.resolve, defineProperty = Object.defineProperty, del = Reflect.deleteProperty,
      hasOwnProperty = Object.prototype.hasOwnProperty, hasOwn = function (o, k) { return apply(hasOwnProperty, o, [k]); },
      Err = Error, Str = String;
  var max = 0, names = [], count = 0, state = 0, settled, pending;
  function ser(v) {
    var s;
    try { s = stringify(v); } catch (e) { throw new Err(${JSON.stringify(NOT_JSON)} + Str(e && e.message)); }
    if (typeof s !== 'string') s = 'null';
    if (s.length > max) throw new Err(${JSON.stringify(TOO_LARGE)} + s.length);
    return s;
  }
  defineProperty(g, '__gf_setup', { value: function () {
    try { setup(); } catch (e) { throw new Err(${JSON.stringify(SETUP_FAILED)} + Str(e && e.message)); }
  } });
  function setup() {
    var payload = parse(g.__gf_in);
    del(g, '__gf_in');
    var vars = payload.v, ks = keysOf(vars);
    // The previous call's variables that this call does not set are removed; the others are
    // redefined in place (deleting a global would throw away the code's optimised global access).
    for (var i = 0; i < count; i++) if (!hasOwn(vars, names[i])) del(g, names[i]);
    count = 0;
    max = payload.m;
    state = 0; settled = undefined; pending = undefined;
    for (var j = 0; j < ks.length; j++) {
      defineProperty(g, ks[j], { value: vars[ks[j]], writable: true, enumerable: true, configurable: true });
      names[count++] = ks[j];
    }
  }
  function wait(p) {
    pending = apply(then, apply(resolveP, P, [p]), [ser]);
    apply(then, pending, [function (v) { state = 1; settled = v; }, function (e) { state = 2; settled = e; }]);
    return ${JSON.stringify(PENDING)};
  }
  defineProperty(g, '__gf_sync', { value: function (fn) { return ser(fn()); } });
  // Code without \`await\`: run as a plain function; its result is returned serialised at once
  // unless it is a thenable, which is then awaited like an async function's result.
  defineProperty(g, '__gf_code', { value: function (fn) {
    var r = fn();
    if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof r.then === 'function') return wait(r);
    return ser(r);
  } });
  defineProperty(g, '__gf_async', { value: function (fn) { return wait(fn()); } });
  defineProperty(g, '__gf_take', { value: function () {
    if (state === 1) return settled;
    if (state === 2) throw settled;
    return ${JSON.stringify(PENDING)};
  } });
  defineProperty(g, '__gf_wait', { value: function () { return pending; } });
})(globalThis)`;

/**
 * The script of a call: installs the call's variables, then runs the source. The user's first line
 * is the script's second line; `lineOffset: -1` makes error lines match. The closing on its own line
 * keeps a trailing `// comment` from swallowing it. Code that never awaits runs as a plain function
 * (its result comes back from this one entry into the isolate; an async function's always needs a
 * second one, after the microtask checkpoint).
 */
function wrap(kind: Kind, source: string): string {
  if (kind === 'expression') return `__gf_setup(); __gf_sync(function () { return (\n${source}\n); })`;
  return /\bawait\b/.test(source)
    ? `__gf_setup(); __gf_async(async function () {\n${source}\n})`
    : `__gf_setup(); __gf_code(function () {\n${source}\n})`;
}

interface Slot {
  isolate: ivm.Isolate | null;
  bootstrap: ivm.Script | null;
  /** `__gf_take()`: the settled result of the code's promise, its rejection, or PENDING. */
  take: ivm.Script | null;
  /** Contexts kept for calls with a `reuseKey` (per key and script), least recently used first. */
  reused: Map<string, ivm.Context>;
  scripts: Map<string, ivm.Script>;
  busy: boolean;
  /**
   * A fresh, never-used Context prepared in the background after the previous call, so the next
   * call does not pay for context creation. Used at most once, like any other fresh context.
   */
  spare: { ready: boolean; context: Promise<ivm.Context> } | null;
  callsSinceCheck: number;
  /** Set when the isolate is being disposed by us (timeout) or died (catastrophic error). */
  dead: boolean;
}

interface Pool {
  memoryMb: number;
  slots: Slot[];
  waiters: Array<{ resolve: (slot: Slot) => void; reject: (err: Error) => void }>;
}

export function createSandbox(opts: SandboxOptions = {}): SandboxInstance {
  const poolSize = Math.max(1, opts.poolSize ?? Math.max(2, availableParallelism()));
  const defaultTimeoutMs = opts.defaultTimeoutMs ?? 1000;
  const defaultMemoryMb = opts.defaultMemoryMb ?? 32;
  const maxOutputBytes = opts.maxOutputBytes ?? 1024 * 1024;
  const maxCachedScripts = opts.maxCachedScripts ?? 256;
  const maxPools = Math.max(1, opts.maxPools ?? 4);
  const syncBudgetMs = Math.max(0, opts.syncBudgetMs ?? 10);
  const maxReusedContexts = Math.max(0, opts.maxReusedContexts ?? 32);
  const pools = new Map<number, Pool>();
  const stats: SandboxStats = { isolatesCreated: 0, isolatesDisposed: 0, calls: 0, scriptCacheHits: 0, scriptCacheMisses: 0, offThreadCalls: 0, contextsReused: 0 };
  let disposed = false;

  function getPool(memoryMb: number): Pool {
    let pool = pools.get(memoryMb);
    if (pool) {
      // Most recently used last.
      pools.delete(memoryMb);
    } else {
      pool = { memoryMb, slots: [], waiters: [] };
    }
    pools.set(memoryMb, pool);
    return pool;
  }

  /** Keeps at most `maxPools` memory sizes alive: disposes idle pools, least recently used first. */
  function trimPools(): void {
    if (pools.size <= maxPools) return;
    for (const [mb, pool] of pools) {
      if (pools.size <= maxPools) return;
      if (mb === defaultMemoryMb || pool.waiters.length > 0 || pool.slots.some((s) => s.busy)) continue;
      for (const slot of pool.slots) disposeIsolate(slot);
      pools.delete(mb);
    }
  }

  function newSlot(): Slot {
    return { isolate: null, bootstrap: null, take: null, reused: new Map(), scripts: new Map(), busy: false, spare: null, callsSinceCheck: 0, dead: false };
  }

  function ensureIsolate(slot: Slot, memoryMb: number): ivm.Isolate {
    if (slot.isolate && !slot.isolate.isDisposed && !slot.dead) return slot.isolate;
    disposeIsolate(slot);
    const isolate = new ivm.Isolate({
      memoryLimit: memoryMb,
      onCatastrophicError: () => {
        // The isolate is unusable; the slot gets a new one on its next call.
        slot.dead = true;
      },
    });
    stats.isolatesCreated++;
    slot.isolate = isolate;
    slot.dead = false;
    slot.bootstrap = isolate.compileScriptSync(BOOTSTRAP, { filename: 'gridflow-bootstrap.js' });
    slot.take = isolate.compileScriptSync('__gf_take()', { filename: 'gridflow-take.js' });
    return isolate;
  }

  function disposeIsolate(slot: Slot): void {
    const iso = slot.isolate;
    slot.isolate = null;
    slot.bootstrap = null;
    slot.take = null;
    slot.reused.clear(); // released with their isolate
    slot.spare = null; // released with its isolate
    slot.scripts.clear();
    slot.callsSinceCheck = 0;
    if (iso) {
      stats.isolatesDisposed++;
      if (!iso.isDisposed) {
        try {
          iso.dispose();
        } catch {
          // already gone
        }
      }
    }
  }

  async function acquire(pool: Pool): Promise<Slot> {
    if (disposed) throw new Error('sandbox disposed');
    // Prefer an idle slot whose spare context is ready (sequential calls then alternate between
    // isolates while the other one prepares its next context on its own thread).
    const free = pool.slots.find((s) => !s.busy && s.spare?.ready) ?? pool.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return free;
    }
    if (pool.slots.length < poolSize) {
      const slot = newSlot();
      slot.busy = true;
      pool.slots.push(slot);
      return slot;
    }
    return new Promise<Slot>((resolve, reject) => pool.waiters.push({ resolve, reject }));
  }

  function release(pool: Pool, slot: Slot): void {
    const next = pool.waiters.shift();
    if (next && !disposed) next.resolve(slot);
    else slot.busy = false;
  }

  /** Recycles an isolate whose heap keeps growing (scripts, leaked contexts) before it hits the limit. */
  function maybeRecycle(slot: Slot, memoryMb: number): void {
    if (++slot.callsSinceCheck < 200 || !slot.isolate || slot.isolate.isDisposed) return;
    slot.callsSinceCheck = 0;
    try {
      const heap = slot.isolate.getHeapStatisticsSync();
      if (heap.used_heap_size > memoryMb * 1024 * 1024 * 0.5) disposeIsolate(slot);
    } catch {
      disposeIsolate(slot);
    }
  }

  /** Script keys by source (a node's source is the same string on every call: no hashing per call). */
  const scriptKeys = new Map<string, string>();
  function scriptKey(kind: Kind, source: string): string {
    const memo = kind === 'code' ? scriptKeys : undefined; // expressions are many and short
    let key = memo?.get(source);
    if (key === undefined) {
      key = createHash('sha1').update(kind).update('\0').update(source).digest('base64');
      if (memo) {
        if (memo.size >= 1000) memo.clear();
        memo.set(source, key);
      }
    }
    return key;
  }

  function getScript(slot: Slot, isolate: ivm.Isolate, kind: Kind, source: string): { script: ivm.Script; key: string } {
    const key = scriptKey(kind, source);
    const cached = slot.scripts.get(key);
    if (cached) {
      stats.scriptCacheHits++;
      // LRU: move to the end.
      slot.scripts.delete(key);
      slot.scripts.set(key, cached);
      return { script: cached, key };
    }
    stats.scriptCacheMisses++;
    let script: ivm.Script;
    try {
      script = isolate.compileScriptSync(wrap(kind, source), { filename: FILENAMES[kind], lineOffset: -1 });
    } catch (err) {
      throw syntaxError(kind, err);
    }
    slot.scripts.set(key, script);
    if (slot.scripts.size > maxCachedScripts) {
      const oldest = slot.scripts.keys().next().value as string;
      slot.scripts.get(oldest)?.release();
      slot.scripts.delete(oldest);
    }
    return { script, key };
  }

  async function call(kind: Kind, source: string, globals: Record<string, Json>, options: SandboxRunOptions = {}): Promise<Json> {
    if (typeof source !== 'string') throw new UserError(`${label(kind)} must be a string`, undefined, 'CODE_SYNTAX');
    const timeoutMs = Math.max(1, options.timeoutMs ?? defaultTimeoutMs);
    // isolated-vm's minimum is 8 MB; whole megabytes keep the number of pools small.
    const memoryMb = Math.min(1024, Math.max(8, Math.round(options.memoryMb ?? defaultMemoryMb)));
    const input = encodeVariables(globals);
    stats.calls++;
    const pool = getPool(memoryMb);
    const slot = await acquire(pool);
    try {
      const isolate = ensureIsolate(slot, memoryMb);
      const script = getScript(slot, isolate, kind, source);
      const reuseKey = options.reuseKey !== undefined && maxReusedContexts > 0 ? `${options.reuseKey}\0${script.key}` : undefined;
      let context = reuseKey !== undefined ? takeReused(slot, reuseKey) : undefined;
      const reused = !!context;
      if (context) stats.contextsReused++;
      else context = await newContext(slot, isolate);
      let keep = false;
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      // isolated-vm's `timeout` only counts time spent executing; a promise that never settles
      // needs a wall-clock limit. A little slack lets the isolate's own timeout win for synchronous
      // loops, which keeps the isolate (and its compiled scripts) alive.
      let wall: Promise<never> | undefined;
      const wallClock = () =>
        (wall ??= new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(new UserError(`${label(kind)} timed out after ${timeoutMs} ms`, undefined, 'CODE_TIMEOUT'));
          }, timeoutMs + 25);
        }));
      // The script installs them (`__gf_setup`) before it runs the source.
      const vars = `{"m":${maxOutputBytes},"v":${input}}`;
      /** Drops the current context for a new one with this call's variables. */
      const replaceContext = async () => {
        context!.release();
        context = await newContext(slot, isolate);
        context.global.setSync('__gf_in', vars);
      };
      try {
        const budget = Math.min(syncBudgetMs, timeoutMs);
        try {
          context.global.setSync('__gf_in', vars);
        } catch (err) {
          // A kept context whose `__gf_in` the code made read-only: replaced like below.
          if (!reused || isolate.isDisposed || slot.dead) throw err;
          await replaceContext();
        }
        let result: unknown = undefined;
        let finished = false;
        if (budget > 0) {
          // Fast path: run on this thread with a short CPU budget. The isolate has no timers or I/O,
          // so the code's promise almost always settles in the microtask checkpoint of the same call.
          try {
            try {
              result = script.script.runSync(context, { timeout: budget });
            } catch (err) {
              // A kept context the code left unable to take new variables (a non-configurable
              // global of the same name, a frozen global object) is dropped for a fresh one.
              if (!reused || !isSetupFailure(err) || isolate.isDisposed || slot.dead) throw err;
              await replaceContext();
              result = script.script.runSync(context, { timeout: budget });
            }
            finished = true;
          } catch (err) {
            // Over budget: start again on a fresh context off this thread with the full limit (the
            // code has no effects outside its context, so running it again is invisible). Any
            // other error is the code's own.
            if (budget >= timeoutMs || !isTimeout(err) || isolate.isDisposed || slot.dead) throw err;
            await replaceContext();
          }
        }
        if (!finished) {
          stats.offThreadCalls++;
          const running = script.script.run(context, { timeout: timeoutMs, copy: true }) as Promise<unknown>;
          running.catch(() => undefined); // the wall timer may win; never leave a rejection unhandled
          result = await Promise.race([running, wallClock()]);
        }
        if (kind === 'code' && result === PENDING) {
          // An async result: settled by the microtask checkpoint that ended the run (usually).
          result = slot.take!.runSync(context, { timeout: timeoutMs });
          if (result === PENDING) {
            // Still pending after the checkpoint: only a promise settled from outside the isolate
            // (asynchronous WebAssembly compilation) gets here; a promise that never settles ends
            // with the wall-clock timeout.
            if (finished) stats.offThreadCalls++;
            const waiting = context.evalClosure('return __gf_wait()', [], {
              timeout: timeoutMs,
              result: { promise: true, copy: true },
            }) as Promise<unknown>;
            waiting.catch(() => undefined);
            result = await Promise.race([waiting, wallClock()]);
          }
        }
        keep = true;
        return decodeResult(kind, result, maxOutputBytes);
      } catch (err) {
        if (timedOut) {
          // The isolate may still be running or holding a pending promise: throw it away.
          slot.dead = true;
          disposeIsolate(slot);
          throw err;
        }
        if (disposed) throw new Error('sandbox disposed');
        if (isolate.isDisposed || slot.dead) {
          disposeIsolate(slot);
          throw new UserError(`${label(kind)} exceeded the memory limit of ${memoryMb} MB`, undefined, 'CODE_MEMORY');
        }
        // An error of the code's own leaves its context usable; a timeout may have stopped it
        // half-way (and the error may come from our own setup), so that context is not kept.
        keep = !isTimeout(err) && !(err instanceof UserError);
        throw mapRuntimeError(kind, err, timeoutMs, maxOutputBytes);
      } finally {
        if (timer) clearTimeout(timer);
        if (keep && reuseKey !== undefined && !isolate.isDisposed && !slot.dead) keepReused(slot, reuseKey, context);
        else if (!isolate.isDisposed) {
          try {
            context.release();
          } catch {
            // the isolate died meanwhile
          }
        }
      }
    } finally {
      if (slot.isolate) maybeRecycle(slot, memoryMb);
      prepareSpare(slot);
      release(pool, slot);
      trimPools();
    }
  }

  /** A context for a call: the spare prepared in the background, else a new one; bootstrapped. */
  async function newContext(slot: Slot, isolate: ivm.Isolate): Promise<ivm.Context> {
    const context = await takeContext(slot, isolate);
    slot.bootstrap!.runSync(context, { timeout: defaultTimeoutMs });
    return context;
  }

  function takeReused(slot: Slot, key: string): ivm.Context | undefined {
    const context = slot.reused.get(key);
    if (context) slot.reused.delete(key); // taken out while in use; put back (most recent) after
    return context;
  }

  function keepReused(slot: Slot, key: string, context: ivm.Context): void {
    slot.reused.set(key, context);
    if (slot.reused.size > maxReusedContexts) {
      const [oldest, old] = slot.reused.entries().next().value as [string, ivm.Context];
      slot.reused.delete(oldest);
      try {
        old.release();
      } catch {
        // already gone
      }
    }
  }

  async function takeContext(slot: Slot, isolate: ivm.Isolate): Promise<ivm.Context> {
    const spare = slot.spare;
    slot.spare = null;
    if (spare) {
      try {
        return await spare.context;
      } catch {
        // fall through to a new one
      }
    }
    return isolate.createContextSync();
  }

  function prepareSpare(slot: Slot): void {
    const isolate = slot.isolate;
    if (disposed || !isolate || isolate.isDisposed || slot.dead || slot.spare) return;
    const spare = { ready: false, context: isolate.createContext() };
    spare.context.then(
      () => {
        spare.ready = true;
      },
      () => {
        if (slot.spare === spare) slot.spare = null;
      },
    );
    slot.spare = spare;
  }

  return {
    runCode: (code, globals, options) => call('code', code, globals, options),
    evaluate: (expression, globals, options) => call('expression', expression, globals, options),
    stats: () => ({ ...stats }),
    async prewarm() {
      const pool = getPool(defaultMemoryMb);
      const slots: Slot[] = [];
      while (pool.slots.length < poolSize) {
        const slot = newSlot();
        pool.slots.push(slot);
        slots.push(slot);
      }
      for (const slot of slots) {
        ensureIsolate(slot, defaultMemoryMb);
        prepareSpare(slot);
      }
      await Promise.all(slots.map((s) => s.spare?.context.catch(() => undefined)));
    },
    dispose() {
      disposed = true;
      for (const pool of pools.values()) {
        for (const slot of pool.slots) disposeIsolate(slot);
        for (const w of pool.waiters) w.reject(new Error('sandbox disposed'));
        pool.slots = [];
        pool.waiters = [];
      }
      pools.clear();
    },
  };
}

function isSetupFailure(err: unknown): boolean {
  return err instanceof Error && typeof err.message === 'string' && err.message.startsWith(SETUP_FAILED);
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'Script execution timed out.';
}

function label(kind: Kind): string {
  return kind === 'code' ? 'Code' : 'Expression';
}

function encodeVariables(globals: Record<string, Json>): string {
  for (const key of Object.keys(globals)) {
    if (key.startsWith('__gf_')) {
      throw new UserError(`variable name "${key}" is reserved`, undefined, 'CODE_BAD_VARIABLES');
    }
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(globals);
  } catch (err) {
    throw new UserError(`the code's input is not JSON-serialisable: ${(err as Error).message}`, undefined, 'CODE_BAD_VARIABLES');
  }
  return json ?? '{}';
}

function decodeResult(kind: Kind, result: unknown, maxOutputBytes: number): Json {
  if (typeof result !== 'string') {
    throw new UserError(`${label(kind)} returned a value that is not JSON-serialisable`, undefined, 'CODE_OUTPUT_NOT_JSON');
  }
  if (result.length > maxOutputBytes || Buffer.byteLength(result) > maxOutputBytes) {
    throw outputTooLarge(kind, Buffer.byteLength(result), maxOutputBytes);
  }
  try {
    return JSON.parse(result) as Json;
  } catch {
    throw new UserError(`${label(kind)} returned a value that is not JSON-serialisable`, undefined, 'CODE_OUTPUT_NOT_JSON');
  }
}

function outputTooLarge(kind: Kind, size: number, max: number): UserError {
  return new UserError(
    `${label(kind)} output is too large: ${formatBytes(size)} (limit ${formatBytes(max)})`,
    undefined,
    'CODE_OUTPUT_TOO_LARGE',
  );
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

function syntaxError(kind: Kind, err: unknown): UserError {
  const e = err as { name?: string; message?: string };
  const message = String(e?.message ?? err);
  // isolated-vm appends "[code.js:LINE:COL]".
  const m = /\s*\[(?:code|expression)\.js:(\d+):(\d+)\]\s*$/.exec(message);
  const text = m ? message.slice(0, m.index) : message;
  const where = m ? (kind === 'code' ? ` at line ${m[1]}, column ${m[2]}` : ` at column ${m[2]}`) : '';
  return new UserError(`${label(kind)} has a syntax error${where}: ${text}`, undefined, 'CODE_SYNTAX');
}

function mapRuntimeError(kind: Kind, err: unknown, timeoutMs: number, maxOutputBytes: number): UserError {
  if (err instanceof UserError) return err;
  if (err instanceof Error) {
    const message = err.message ?? '';
    if (isTimeout(err)) {
      return new UserError(`${label(kind)} timed out after ${timeoutMs} ms`, undefined, 'CODE_TIMEOUT');
    }
    if (message.startsWith(NOT_JSON)) {
      return new UserError(
        `${label(kind)} returned a value that is not JSON-serialisable: ${message.slice(NOT_JSON.length)}`,
        undefined,
        'CODE_OUTPUT_NOT_JSON',
      );
    }
    if (message.startsWith(TOO_LARGE)) {
      return outputTooLarge(kind, Number(message.slice(TOO_LARGE.length)), maxOutputBytes);
    }
    if (err.name === 'SyntaxError' && /\[(code|expression)\.js:\d+:\d+\]$/.test(message)) return syntaxError(kind, err);
    const line = kind === 'code' ? lineOf(err.stack) : undefined;
    const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
    // isolated-vm rejects dynamic `import()` with a bare "Not supported".
    const text = message === 'Not supported' ? 'import() is not supported: the code cannot load modules' : message;
    return new UserError(`${label(kind)} failed: ${name}${text}${line ? ` (line ${line})` : ''}`, undefined, 'CODE_ERROR');
  }
  // A thrown primitive (`throw "nope"`, `throw null`).
  let shown: string;
  try {
    shown = typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
  } catch {
    shown = String(err);
  }
  return new UserError(`${label(kind)} failed: ${shown}`, undefined, 'CODE_ERROR');
}

function lineOf(stack: string | undefined): number | undefined {
  const m = /code\.js:(\d+):\d+/.exec(stack ?? '');
  const n = m ? Number(m[1]) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
