import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonRetriableError, RetryAfterError } from '@gridflow/runtime';
import { createEmbedder } from './embedder.js';
import { cosineSimilarity, createLocalEmbedder, LOCAL_EMBEDDER_NAME } from './local-embedder.js';
import { startFakeOpenAI, type FakeOpenAI } from '../testing/fake-openai-server.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.close());

describe('local embedder', () => {
  it('is deterministic, L2-normalised and fixed-dimension', async () => {
    const e = createLocalEmbedder();
    const a = await e.embed('Bright, friendly and practical advice for small bakeries.');
    const b = await e.embed('Bright, friendly and practical advice for small bakeries.');
    expect(a.embedder).toBe(LOCAL_EMBEDDER_NAME);
    expect(a.vector).toHaveLength(e.dimension);
    expect(a.vector).toEqual(b.vector);
    expect(Math.hypot(...a.vector)).toBeCloseTo(1, 10);
    expect((await e.embed('')).vector.every((v) => v === 0)).toBe(true);
  });

  it('ranks related text above unrelated text', async () => {
    const e = createLocalEmbedder();
    const brand = await e.embed(
      'Fresh sourdough bread baked every morning in our neighbourhood bakery',
    );
    const near = await e.embed('Our bakery bakes fresh sourdough every morning');
    const far = await e.embed('Quarterly earnings call for institutional investors');
    expect(cosineSimilarity(brand.vector, near.vector)).toBeGreaterThan(
      cosineSimilarity(brand.vector, far.vector) + 0.2,
    );
  });
});

describe('createEmbedder', () => {
  it('uses the local embedder without key or base URL', () => {
    expect(createEmbedder({}).name).toBe(LOCAL_EMBEDDER_NAME);
  });

  it('uses OpenAI embeddings through the real client when configured', async () => {
    const e = createEmbedder({ openaiApiKey: fake.apiKey, openaiBaseUrl: fake.url });
    expect(e.name).toBe('openai:text-embedding-3-small');
    const v = await e.embed('hello');
    expect(v).toMatchObject({ embedder: 'openai:text-embedding-3-small', dimension: 1536 });
    expect(v.vector).toHaveLength(1536);
    const req = fake.requests.at(-1)!;
    expect(req.path).toBe('/v1/embeddings');
    expect(req.headers['authorization']).toBe(`Bearer ${fake.apiKey}`);
  });

  it('maps 401 to NonRetriableError naming the setting and 429 to RetryAfterError', async () => {
    const bad = createEmbedder({ openaiApiKey: 'wrong', openaiBaseUrl: fake.url });
    const err = await bad.embed('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonRetriableError);
    expect((err as Error).message).toContain('OPENAI_API_KEY');
    fake.failNext(1, { status: 429, retryAfter: 2 });
    const rl = await createEmbedder({ openaiApiKey: fake.apiKey, openaiBaseUrl: fake.url })
      .embed('x')
      .catch((e: unknown) => e);
    expect(rl).toBeInstanceOf(RetryAfterError);
    expect((rl as RetryAfterError).retryAfterMs).toBe(2000);
  });
});
