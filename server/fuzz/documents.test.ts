/**
 * Hostile grid documents: thousands of random and mutated documents (mutations of every shipped
 * template and of a trigger → code grid) through the runtime's `validateGrid` (never throws, every
 * problem says what and where) and through `PUT /api/grids/:id` (never a 5xx; a rejection is a 400
 * whose `error.details[].path` names the field; an accepted draft reports its problems per node,
 * edge or field, and the stored draft reads back).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { validateGrid, type ValidationRegistry } from '@gridflow/runtime/validate';
import { registry } from '@gridflow/nodes';
import { loadTemplates } from '@gridflow/templates';
import { simpleDoc, startTestServer, type TestServer, type TestUser } from '../src/testing/harness.js';
import { documentLike, mutated } from './mutate.js';

const reg = registry as unknown as ValidationRegistry;
const seeds = [simpleDoc(), ...loadTemplates().map((t) => t.document)] as Array<Record<string, unknown>>;
const hostileDoc = fc.oneof(documentLike, fc.constantFrom(...seeds).chain((d) => mutated(d as never)));

/** Problems that concern the whole grid rather than one node, edge or field. */
const GRID_LEVEL = new Set(['no_trigger', 'several_triggers', 'cycle']);

describe('validateGrid on hostile documents', () => {
  it('never throws; every problem has a code, a message and names its node, edge or field (3,000 documents)', () => {
    let rejected = 0;
    fc.assert(
      fc.property(fc.oneof(hostileDoc, fc.jsonValue({ maxDepth: 3 })), (doc) => {
        const r = validateGrid(doc, reg);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) {
          rejected++;
          expect(r.errors.length).toBeGreaterThan(0);
        }
        for (const p of [...r.errors, ...r.warnings]) {
          expect(typeof p.code).toBe('string');
          expect(typeof p.message).toBe('string');
          expect(p.message.length).toBeGreaterThan(0);
          const located = !!(p.nodeId || p.edgeId) || p.field !== undefined || GRID_LEVEL.has(p.code);
          if (!located) throw new Error(`problem without a location: ${JSON.stringify(p)}`);
        }
      }),
      { numRuns: 3000 },
    );
    console.log(`[fuzz] validateGrid: 3000 documents, ${rejected} rejected`);
    expect(rejected).toBeGreaterThan(1000);
  });

  it('the unmutated seeds (every shipped template) are valid, so the mutations start from real grids', () => {
    // Fails while runtime/src/validate.ts checks edges against a type's static outputs only and
    // ignores `outputsFor(config)` (a branch's named routes): see the fault-suite report.
    const problems = seeds.flatMap((d, i) => validateGrid(d, reg).errors.map((e) => `seed ${i}: ${e.code} ${e.message}`));
    expect(problems).toEqual([]);
  });
});

describe('PUT /api/grids/:id with hostile documents', () => {
  let t: TestServer;
  let owner: TestUser;
  let gridId: string;
  let version = 1;

  beforeAll(async () => {
    t = await startTestServer({ engine: null });
    owner = await t.signup('docfuzz');
    const g = await owner.agent.post('/api/grids').send({ name: 'doc fuzz', document: simpleDoc() });
    expect(g.status).toBe(201);
    gridId = g.body.grid.id;
    version = g.body.grid.draftVersion;
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('never a 5xx; a 400 names the field; a saved draft lists its problems per node/edge/field (600 documents)', async () => {
    const seen: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(hostileDoc, async (doc) => {
        const r = await owner.agent.put(`/api/grids/${gridId}`).set('If-Match', `"${version}"`).send({ document: doc });
        seen[r.status] = (seen[r.status] ?? 0) + 1;
        expect(r.status, JSON.stringify(r.body).slice(0, 400)).toBeLessThan(500);
        if (r.status === 200) {
          version = r.body.grid.draftVersion;
          const v = r.body.validation as { ok: boolean; errors: Array<Record<string, unknown>> };
          expect(typeof v.ok).toBe('boolean');
          for (const p of v.errors) {
            expect(typeof p.message).toBe('string');
            expect(!!(p.nodeId || p.edgeId) || p.field !== undefined || GRID_LEVEL.has(String(p.code))).toBe(true);
          }
        } else {
          expect(r.status).toBe(400);
          const e = r.body.error as { code: string; message: string; details: Array<{ path: string; message: string }> };
          expect(e.code).toBe('VALIDATION_FAILED');
          expect(e.details.length).toBeGreaterThan(0);
          for (const d of e.details) {
            expect(typeof d.path).toBe('string');
            expect(d.path).toMatch(/^body\.document/);
            expect(typeof d.message).toBe('string');
          }
        }
      }),
      { numRuns: 600 },
    );
    console.log(`[fuzz] PUT /api/grids/:id: 600 documents, statuses ${JSON.stringify(seen)}`);
    // The grid still reads back, with the last saved draft.
    const back = await owner.agent.get(`/api/grids/${gridId}`);
    expect(back.status).toBe(200);
    expect(back.body.grid.draftVersion).toBe(version);
  }, 240_000);
});
