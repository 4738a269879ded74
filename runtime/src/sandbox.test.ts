import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from './errors.js';
import { createSandbox } from './sandbox.js';

const sandbox = createSandbox({ poolSize: 2 });
afterAll(() => sandbox.dispose());

async function failure(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected the call to fail');
}

/** After every attack the sandbox must still answer a normal call. */
async function stillServes(): Promise<void> {
  await expect(sandbox.runCode('return input.n * 2', { input: { n: 21 } })).resolves.toBe(42);
  await expect(sandbox.evaluate('a + 1', { a: 1 })).resolves.toBe(2);
}

describe('sandbox: normal use', () => {
  it('runs a function body with return, input and other globals', async () => {
    const out = await sandbox.runCode(
      'const { n, text } = input;\nreturn { n2: n * 2, len: text.length, upper: text.toUpperCase(), run: run.id };',
      { input: { n: 21, text: 'hello' }, run: { id: 'r1' } },
    );
    expect(out).toEqual({ n2: 42, len: 5, upper: 'HELLO', run: 'r1' });
  });

  it('supports async/await and promise chains', async () => {
    const out = await sandbox.runCode(
      'const wait = (v) => new Promise((r) => Promise.resolve().then(() => r(v)));\nconst a = await wait(2);\nreturn [a, await Promise.all([wait(3), 4])];',
      {},
    );
    expect(out).toEqual([2, [3, 4]]);
  });


  it('code that never awaits gives what an async function would: a returned promise or thenable is awaited', async () => {
    // No `await` in these sources: they run as plain functions (one entry into the isolate).
    await expect(sandbox.runCode('return Promise.resolve({ a: input })', { input: 1 })).resolves.toEqual({ a: 1 });
    await expect(sandbox.runCode('return new Promise((r) => Promise.resolve().then(() => r([2])))', {})).resolves.toEqual([2]);
    await expect(sandbox.runCode('return { then(ok) { ok(7); } }', {})).resolves.toBe(7);
    await expect(sandbox.runCode('const f = () => 3;\nreturn f', {})).resolves.toBeNull();
    const rejected = await failure(sandbox.runCode('return Promise.reject(new RangeError("no " + input))', { input: 'way' }));
    expect(rejected.message).toBe('Code failed: RangeError: no way (line 1)');
    const thrown = await failure(sandbox.runCode('const x = 1;\nthrow new TypeError("early " + x)', {}));
    expect(thrown.message).toBe('Code failed: TypeError: early 1 (line 2)');
    // "await" only in a string still runs as an async function, with the same result.
    await expect(sandbox.runCode('return "await " + input', { input: 'me' })).resolves.toBe('await me');
    const notJson = await failure(sandbox.runCode('return { n: 1n }', {}));
    expect(notJson.code).toBe('CODE_OUTPUT_NOT_JSON');
  });
  it('returns null for undefined and drops non-JSON members like JSON.stringify does', async () => {
    await expect(sandbox.runCode('const x = 1;', {})).resolves.toBeNull();
    await expect(sandbox.runCode('return { a: 1, f() {}, u: undefined, d: new Date(0) }', {})).resolves.toEqual({
      a: 1,
      d: '1970-01-01T00:00:00.000Z',
    });
  });

  it('evaluates single expressions', async () => {
    await expect(sandbox.evaluate('trigger.body.items.map((i) => i.price).reduce((a, b) => a + b, 0)', {
      trigger: { body: { items: [{ price: 2 }, { price: 3.5 }] } },
    })).resolves.toBe(5.5);
    await expect(sandbox.evaluate('`Hi ${name.toUpperCase()}` // a comment', { name: 'ada' })).resolves.toBe('Hi ADA');
    await expect(sandbox.evaluate('{ a: 1 }', {})).resolves.toEqual({ a: 1 });
  });

  it('keeps runs isolated from each other (fresh context per call)', async () => {
    await sandbox.runCode('globalThis.leak = 1; Array.prototype.evil = 1; input.x = 9; return 1', { input: { x: 1 } });
    for (let i = 0; i < 4; i++) {
      await expect(sandbox.runCode('return [typeof leak, [].evil === undefined]', {})).resolves.toEqual(['undefined', true]);
    }
  });

  it('reuses compiled scripts (cache by hash)', async () => {
    const sb = createSandbox({ poolSize: 1 });
    try {
      for (let i = 0; i < 5; i++) await sb.runCode('return input + 1', { input: i });
      const s = sb.stats();
      expect(s.scriptCacheMisses).toBe(1);
      expect(s.scriptCacheHits).toBe(4);
      expect(s.isolatesCreated).toBe(1);
    } finally {
      sb.dispose();
    }
  });

  it('serves concurrent calls across the pool', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => sandbox.runCode('await null; return input * input', { input: i })));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * i));
  });

  it('runs small code on the calling thread and longer code off it, without blocking the event loop', async () => {
    const sb = createSandbox({ poolSize: 1, syncBudgetMs: 10 });
    try {
      await expect(sb.runCode('return input.n * 2', { input: { n: 21 } })).resolves.toBe(42);
      expect(sb.stats().offThreadCalls).toBe(0);
      // ~300 ms of CPU: over the budget, so it starts again off the thread with its full limit.
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      const out = await sb.runCode(
        'const end = Date.now() + 300; let i = 0; while (Date.now() < end) i++; return { done: i > 0, n: input.n };',
        { input: { n: 7 } },
        { timeoutMs: 2000 },
      );
      clearInterval(timer);
      expect(out).toEqual({ done: true, n: 7 });
      expect(sb.stats().offThreadCalls).toBe(1);
      // The host's timers kept firing while the code ran.
      expect(ticks).toBeGreaterThan(10);
    } finally {
      sb.dispose();
    }
  });

  it('reports an error thrown after an await, or a thrown primitive, like a synchronous one', async () => {
    const err = await failure(sandbox.runCode('await null;\nthrow new TypeError("late " + input)', { input: 'boom' }));
    expect(err.message).toBe('Code failed: TypeError: late boom (line 2)');
    const prim = await failure(sandbox.runCode('throw "nope"', {}));
    expect(prim.message).toBe('Code failed: nope');
  });

  it('calls with the same reuseKey and source share a context; other keys, other code and no key do not', async () => {
    const sb = createSandbox({ poolSize: 1 });
    const counter = 'globalThis.n = (globalThis.n || 0) + 1;\nreturn [n, input, typeof item];';
    try {
      await expect(sb.runCode(counter, { input: 'a', item: 1 }, { reuseKey: 'ws1/g1/code1' })).resolves.toEqual([1, 'a', 'number']);
      // The previous call's variables are gone; the new ones are there; the code's own global stayed.
      await expect(sb.runCode(counter, { input: 'b' }, { reuseKey: 'ws1/g1/code1' })).resolves.toEqual([2, 'b', 'undefined']);
      expect(sb.stats().contextsReused).toBe(1);
      await expect(sb.runCode(counter, { input: 'c' }, { reuseKey: 'ws2/g1/code1' })).resolves.toEqual([1, 'c', 'undefined']);
      await expect(sb.runCode(counter, { input: 'd' })).resolves.toEqual([1, 'd', 'undefined']);
      await expect(sb.runCode(`${counter}\n// changed`, { input: 'e' }, { reuseKey: 'ws1/g1/code1' })).resolves.toEqual([1, 'e', 'undefined']);
      await expect(sb.runCode(counter, { input: 'f' }, { reuseKey: 'ws1/g1/code1' })).resolves.toEqual([3, 'f', 'undefined']);
      // An error of the code's own keeps the context; a timeout drops it.
      const flaky = 'globalThis.n = (globalThis.n || 0) + 1;\nif (input === "throw") throw new Error("no");\nif (input === "spin") for (;;) {}\nreturn n;';
      await expect(sb.runCode(flaky, { input: 'ok' }, { reuseKey: 'k' })).resolves.toBe(1);
      await failure(sb.runCode(flaky, { input: 'throw' }, { reuseKey: 'k' }));
      await expect(sb.runCode(flaky, { input: 'ok' }, { reuseKey: 'k' })).resolves.toBe(3);
      expect((await failure(sb.runCode(flaky, { input: 'spin' }, { reuseKey: 'k', timeoutMs: 50 }))).code).toBe('CODE_TIMEOUT');
      await expect(sb.runCode(flaky, { input: 'ok' }, { reuseKey: 'k' })).resolves.toBe(1);
    } finally {
      sb.dispose();
    }
  });

  it('a reused context the code broke for new variables is replaced by a fresh one', async () => {
    const sb = createSandbox({ poolSize: 1 });
    try {
      const poison = 'Object.defineProperty(globalThis, "input", { value: "stuck", configurable: false });\nObject.defineProperty(globalThis, "__gf_in", { value: "x", configurable: false });\nreturn 1;';
      await expect(sb.runCode(poison, { input: 'a' }, { reuseKey: 'k' })).resolves.toBe(1);
      await expect(sb.runCode(poison, { input: 'b' }, { reuseKey: 'k' })).resolves.toBe(1);
      const freeze = 'const seen = input;\nObject.freeze(globalThis);\nreturn seen;';
      await expect(sb.runCode(freeze, { input: 'c' }, { reuseKey: 'k' })).resolves.toBe('c');
      await expect(sb.runCode(freeze, { input: 'd' }, { reuseKey: 'k' })).resolves.toBe('d');
      expect(sb.stats().contextsReused).toBe(2);
    } finally {
      sb.dispose();
    }
  });

  it('keeps a bounded number of reused contexts (least recently used dropped)', async () => {
    const sb = createSandbox({ poolSize: 1, maxReusedContexts: 2 });
    const counter = 'globalThis.n = (globalThis.n || 0) + 1; return n;';
    try {
      for (const key of ['a', 'b', 'a', 'c']) await sb.runCode(counter, {}, { reuseKey: key });
      // 'b' was the least recently used when 'c' came.
      await expect(sb.runCode(counter, {}, { reuseKey: 'b' })).resolves.toBe(1);
      await expect(sb.runCode(counter, {}, { reuseKey: 'c' })).resolves.toBe(2);
      const off = createSandbox({ poolSize: 1, maxReusedContexts: 0 });
      try {
        await off.runCode(counter, {}, { reuseKey: 'a' });
        await expect(off.runCode(counter, {}, { reuseKey: 'a' })).resolves.toBe(1);
      } finally {
        off.dispose();
      }
    } finally {
      sb.dispose();
    }
  });

  it('a __proto__ key in the input is a plain property, not the global prototype', async () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
    await expect(sandbox.runCode('return [input.a, ({}).polluted === undefined, Object.keys(input).length]', { input })).resolves.toEqual([1, true, 2]);
    const g = JSON.parse('{"__proto__": {"polluted": true}}');
    await expect(sandbox.evaluate('typeof polluted', g)).resolves.toBe('undefined');
  });
});

describe('sandbox: errors', () => {
  it('reports a syntax error with its line', async () => {
    const err = await failure(sandbox.runCode('const a = 1;\nconst b = ;\nreturn a', {}));
    expect(err.code).toBe('CODE_SYNTAX');
    expect(err.message).toMatch(/^Code has a syntax error at line 2, column \d+: Unexpected token ';'$/);
    const expr = await failure(sandbox.evaluate('a +', { a: 1 }));
    expect(expr.code).toBe('CODE_SYNTAX');
    expect(expr.message).toMatch(/^Expression has a syntax error/);
    await failure(sandbox.evaluate('a; b', { a: 1, b: 2 }));
  });

  it('reports a runtime error with its message and line', async () => {
    const err = await failure(sandbox.runCode('const a = 1;\n\nthrow new Error("boom " + a);', {}));
    expect(err.code).toBe('CODE_ERROR');
    expect(err.message).toBe('Code failed: boom 1 (line 3)');
    const te = await failure(sandbox.runCode('return input.missing.deep', { input: {} }));
    expect(te.message).toMatch(/^Code failed: TypeError: Cannot read properties of undefined \(reading 'deep'\) \(line 1\)$/);
    const thrown = await failure(sandbox.runCode('throw "nope"', {}));
    expect(thrown.message).toBe('Code failed: nope');
    const thrownObj = await failure(sandbox.runCode('throw { a: 1 }', {}));
    expect(thrownObj.code).toBe('CODE_ERROR');
    const rejected = await failure(sandbox.runCode('await Promise.reject(new RangeError("bad range"))', {}));
    expect(rejected.message).toMatch(/^Code failed: RangeError: bad range/);
    await stillServes();
  });

  it('refuses output that is not JSON-serialisable', async () => {
    const circular = await failure(sandbox.runCode('const a = {}; a.self = a; return a;', {}));
    expect(circular.code).toBe('CODE_OUTPUT_NOT_JSON');
    expect(circular.message).toMatch(/^Code returned a value that is not JSON-serialisable: .*circular/i);
    const big = await failure(sandbox.runCode('return 10n', {}));
    expect(big.code).toBe('CODE_OUTPUT_NOT_JSON');
    await stillServes();
  });

  it('refuses output over the size limit', async () => {
    const sb = createSandbox({ poolSize: 1, maxOutputBytes: 1000 });
    try {
      await expect(sb.runCode('return "x".repeat(900)', {})).resolves.toHaveLength(900);
      const err = await failure(sb.runCode('return "x".repeat(5000)', {}));
      expect(err.code).toBe('CODE_OUTPUT_TOO_LARGE');
      expect(err.message).toBe('Code output is too large: 4.9 KiB (limit 1000 bytes)');
      // Multi-byte characters are counted in bytes by the host.
      const utf = await failure(sb.runCode('return "é".repeat(600)', {}));
      expect(utf.code).toBe('CODE_OUTPUT_TOO_LARGE');
    } finally {
      sb.dispose();
    }
  });

  it('refuses reserved variable names', async () => {
    const err = await failure(sandbox.runCode('return 1', { __gf_sync: 1 }));
    expect(err.code).toBe('CODE_BAD_VARIABLES');
  });
});

describe('sandbox: escapes and resource attacks', () => {
  it('has no process', async () => {
    const err = await failure(sandbox.runCode('return process.env', {}));
    expect(err.message).toBe('Code failed: ReferenceError: process is not defined (line 1)');
    await expect(sandbox.evaluate('typeof process', {})).resolves.toBe('undefined');
    await stillServes();
  });

  it('has no require, module, Buffer, fetch or timers', async () => {
    const err = await failure(sandbox.runCode('return require("fs")', {}));
    expect(err.message).toMatch(/require is not defined/);
    await expect(
      sandbox.evaluate('[typeof require, typeof module, typeof Buffer, typeof fetch, typeof setTimeout, typeof globalThis.process]', {}),
    ).resolves.toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
    await stillServes();
  });

  it('constructor.constructor reaches only the isolate', async () => {
    const err = await failure(sandbox.runCode("return this.constructor.constructor('return process')()", {}));
    expect(err.message).toMatch(/process is not defined/);
    const err2 = await failure(sandbox.evaluate("input.constructor.constructor('return process')().mainModule", { input: {} }));
    expect(err2.message).toMatch(/process is not defined/);
    const err3 = await failure(sandbox.runCode("return (async () => {}).constructor('return process')()", {}));
    expect(err3.message).toMatch(/process is not defined/);
    await stillServes();
  });

  it('cannot pollute the host prototypes', async () => {
    await sandbox.runCode(
      'Object.prototype.polluted = "yes"; Array.prototype.polluted = "yes"; JSON.parse = () => 1; return JSON.parse("{}")',
      {},
    );
    const out = await sandbox.runCode('return JSON.parse(\'{"__proto__": {"polluted": "yes"}}\')', {});
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.parse('{"a":1}')).toEqual({ a: 1 });
    await stillServes();
  });

  it('replacing JSON or Promise.prototype.then inside the code cannot break the result channel', async () => {
    await expect(
      sandbox.runCode('JSON.stringify = () => "{not json"; Promise.prototype.then = function () { return 1 }; return { ok: true }', {}),
    ).resolves.toEqual({ ok: true });
    await stillServes();
  });

  it('stops for(;;){} with a timeout error', async () => {
    const started = Date.now();
    const err = await failure(sandbox.runCode('for(;;){}', {}));
    expect(err.code).toBe('CODE_TIMEOUT');
    expect(err.message).toBe('Code timed out after 1000 ms');
    expect(Date.now() - started).toBeLessThan(6000);
    const expr = await failure(sandbox.evaluate('(() => { while (true) {} })()', {}, { timeoutMs: 200 }));
    expect(expr.message).toBe('Expression timed out after 200 ms');
    await stillServes();
  });

  it('stops an infinite loop after many short calls and after the timer thread went idle', async () => {
    // isolated-vm is patched (patches/isolated-vm+5.0.4.patch): finished calls' timers are dropped
    // without a wake-up each, and an idle timer thread waits a second for the next one before it
    // ends. A live timer must still fire in each state: busy, lingering, ended and started again.
    const sb = createSandbox({ poolSize: 1 });
    try {
      for (let i = 0; i < 300; i++) await sb.runCode('return input.n + 1', { input: { n: i } }, { reuseKey: 't' });
      const busy = await failure(sb.runCode('for(;;){}', {}, { reuseKey: 't', timeoutMs: 200 }));
      expect(busy.code).toBe('CODE_TIMEOUT');
      await new Promise((r) => setTimeout(r, 300)); // the thread lingers
      expect(await sb.runCode('return 2', {})).toBe(2);
      const lingering = await failure(sb.runCode('for(;;){}', {}, { timeoutMs: 200 }));
      expect(lingering.code).toBe('CODE_TIMEOUT');
      await new Promise((r) => setTimeout(r, 1500)); // the thread has ended
      const started = Date.now();
      const fresh = await failure(sb.runCode('while (true) {}', {}, { timeoutMs: 200 }));
      expect(fresh.code).toBe('CODE_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await sb.runCode('return input.x * 2', { input: { x: 21 } })).toBe(42);
    } finally {
      sb.dispose();
    }
  });

  it('stops an async infinite loop', async () => {
    const err = await failure(sandbox.runCode('await null;\nfor(;;){}', {}, { timeoutMs: 300 }));
    expect(err.message).toBe('Code timed out after 300 ms');
    const err2 = await failure(sandbox.runCode('const spin = async () => { await null; return spin(); };\nawait spin();', {}, { timeoutMs: 300 }));
    expect(err2.message).toBe('Code timed out after 300 ms');
    await stillServes();
  });

  it('stops a Promise that never resolves', async () => {
    const started = Date.now();
    const err = await failure(sandbox.runCode('await new Promise(() => {});\nreturn 1', {}, { timeoutMs: 300 }));
    expect(err.code).toBe('CODE_TIMEOUT');
    expect(err.message).toBe('Code timed out after 300 ms');
    expect(Date.now() - started).toBeLessThan(5000);
    await stillServes();
  });

  it('stops Atomics.wait', async () => {
    const err = await failure(sandbox.runCode('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);', {}, { timeoutMs: 300 }));
    expect(err.code).toBe('CODE_TIMEOUT');
    await stillServes();
  });

  it('contains a memory bomb: the isolate is replaced and the pool keeps serving', async () => {
    const sb = createSandbox({ poolSize: 1 });
    try {
      await sb.runCode('return 1', {});
      const err = await failure(sb.runCode('const a = [];\nfor (;;) a.push(new Array(1e5).fill(Math.random()));', {}, { timeoutMs: 10_000 }));
      expect(err.code).toBe('CODE_MEMORY');
      expect(err.message).toBe('Code exceeded the memory limit of 32 MB');
      await expect(sb.runCode('return input * 2', { input: 4 })).resolves.toBe(8);
      const s = sb.stats();
      expect(s.isolatesCreated).toBe(2);
      // A big string is a memory bomb too.
      const err2 = await failure(sb.runCode('let s = "x";\nwhile (true) s = s + s;', {}, { timeoutMs: 10_000 }));
      expect(['CODE_MEMORY', 'CODE_ERROR']).toContain(err2.code);
      await expect(sb.runCode('return "ok"', {})).resolves.toBe('ok');
    } finally {
      sb.dispose();
    }
  });

  it('honours a per-call memory limit', async () => {
    const err = await failure(
      sandbox.runCode('const a = [];\nfor (;;) a.push(new Array(1e5).fill(1.5));', {}, { memoryMb: 16, timeoutMs: 10_000 }),
    );
    expect(err.message).toBe('Code exceeded the memory limit of 16 MB');
    await stillServes();
  });

  it('contains huge output', async () => {
    const err = await failure(sandbox.runCode('return "x".repeat(2 * 1024 * 1024)', {}));
    expect(err.code).toBe('CODE_OUTPUT_TOO_LARGE');
    expect(err.message).toBe('Code output is too large: 2.0 MiB (limit 1.0 MiB)');
    await stillServes();
  });

  it('refuses import()', async () => {
    const err = await failure(sandbox.runCode('const fs = await import("node:fs");\nreturn fs.readFileSync("/etc/passwd", "utf8")', {}));
    expect(err.code).toBe('CODE_ERROR');
    expect(err.message).toMatch(/^Code failed: import\(\) is not supported/);
    await stillServes();
  });

  it('contains deep recursion', async () => {
    const err = await failure(sandbox.runCode('const f = (n) => f(n + 1) + 1;\nreturn f(0)', {}));
    expect(err.message).toMatch(/Maximum call stack size exceeded/);
    await stillServes();
  });

  it('code injection through the wrapper stays inside the isolate', async () => {
    // Closing the wrapper early only changes what runs inside the isolate.
    const out = sandbox.runCode('return 1 });\n(function () { return typeof process', {});
    await out.then(
      (v) => expect(v === 1 || v === 'undefined').toBe(true),
      (e) => expect(e).toBeInstanceOf(UserError),
    );
    await stillServes();
  });

  it('Error.prepareStackTrace and caller tricks only see isolate frames', async () => {
    const out = (await sandbox.runCode(
      `Error.prepareStackTrace = (e, frames) => frames.map((f) => { const t = f.getThis(); return t ? typeof t.process : null; });
       const st = new Error('x').stack;
       function f() { return f.caller; }
       const c = f();
       const callerProcess = c ? await c.constructor('return typeof process')() : 'none';
       return { st, callerProcess };`,
      {},
    )) as { st: unknown[]; callerProcess: string };
    expect(out.st.every((t) => t === null || t === 'undefined')).toBe(true);
    expect(['undefined', 'none']).toContain(out.callerProcess);
    await stillServes();
  });

  it('a getter that never ends during serialisation times out', async () => {
    const err = await failure(sandbox.runCode('return { get x() { for(;;){} } }', {}, { timeoutMs: 300 }));
    expect(err.code).toBe('CODE_TIMEOUT');
    const err2 = await failure(sandbox.runCode('return { toJSON() { throw new Error("no") } }', {}));
    expect(err2.code).toBe('CODE_OUTPUT_NOT_JSON');
    await stillServes();
  });

  it('stops a WebAssembly infinite loop', async () => {
    const bytes = [0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 9, 1, 7, 0, 3, 64, 12, 0, 11, 11];
    const err = await failure(
      sandbox.runCode(`const m = new WebAssembly.Module(new Uint8Array(${JSON.stringify(bytes)}));\nnew WebAssembly.Instance(m).exports.f();`, {}, { timeoutMs: 300 }),
    );
    expect(err.code).toBe('CODE_TIMEOUT');
    await stillServes();
  });

  it('contains ArrayBuffer and string allocation bombs', async () => {
    const err = await failure(sandbox.runCode('const bufs = []; for (;;) bufs.push(new ArrayBuffer(8 * 1024 * 1024));', {}, { timeoutMs: 5000 }));
    expect(['CODE_MEMORY', 'CODE_ERROR']).toContain(err.code);
    const err2 = await failure(sandbox.runCode('return "x".repeat(2 ** 29).length', {}, { timeoutMs: 5000 }));
    expect(['CODE_MEMORY', 'CODE_ERROR']).toContain(err2.code);
    await stillServes();
  });

  it('keeps serving after many attacks in a row', async () => {
    const attacks = [
      'for(;;){}',
      'return process',
      'await new Promise(() => {})',
      'const a = []; for (;;) a.push(new Array(1e5).fill(2.5));',
      'return "y".repeat(3 * 1024 * 1024)',
    ];
    for (const code of attacks) await failure(sandbox.runCode(code, {}, { timeoutMs: 300 }));
    await stillServes();
  });
});

describe('sandbox: lifecycle', () => {
  it('keeps a bounded number of memory-size pools', async () => {
    const sb = createSandbox({ poolSize: 1, maxPools: 2 });
    try {
      for (const mb of [16, 24, 40, 48, 56]) await expect(sb.runCode('return 1', {}, { memoryMb: mb })).resolves.toBe(1);
      const s = sb.stats();
      expect(s.isolatesCreated).toBe(5);
      expect(s.isolatesDisposed).toBe(3); // only the last two sizes stay warm (the default pool was never used)
      await expect(sb.runCode('return 2', {}, { memoryMb: 56 })).resolves.toBe(2);
      expect(sb.stats().isolatesCreated).toBe(5);
    } finally {
      sb.dispose();
    }
  });

  it('prewarm() creates the pool ahead of the first call', async () => {
    const sb = createSandbox({ poolSize: 2 });
    try {
      await sb.prewarm();
      expect(sb.stats().isolatesCreated).toBe(2);
      await expect(sb.runCode('return 5', {})).resolves.toBe(5);
      expect(sb.stats().isolatesCreated).toBe(2);
    } finally {
      sb.dispose();
    }
  });

  it('dispose() fails running and queued calls with a plain error, and later calls too', async () => {
    const sb = createSandbox({ poolSize: 1 });
    await sb.runCode('return 1', {});
    const running = sb.runCode('for(;;){}', {}, { timeoutMs: 5000 }).catch((e: Error) => e);
    const queued = sb.runCode('return 2', {}).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 50));
    sb.dispose();
    expect(await running).toMatchObject({ message: 'sandbox disposed' });
    expect(await queued).toMatchObject({ message: 'sandbox disposed' });
    await expect(sb.runCode('return 3', {})).rejects.toThrow('sandbox disposed');
  });
});
