import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai-server.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.close());

describe('fake OpenAI server with the real openai client', () => {
  it('answers chat completions with n choices and usage', async () => {
    const client = new OpenAI({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
    const res = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      n: 3,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Announce our spring sale' },
      ],
    });
    expect(res.choices).toHaveLength(3);
    expect(res.choices[1]!.message.content).toContain('Announce our spring sale');
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
    const last = fake.requests.at(-1)!;
    expect(last.path).toBe('/v1/chat/completions');
    expect((last.body as { n: number }).n).toBe(3);
  });

  it('refuses a wrong key with 401 and injects 429 with Retry-After', async () => {
    const bad = new OpenAI({ apiKey: 'wrong', baseURL: fake.url, maxRetries: 0 });
    await expect(
      bad.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 401 });
    fake.failNext(1, { status: 429, retryAfter: 7 });
    const client = new OpenAI({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
    const err = await client.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe(
      '7',
    );
    // The fault was consumed: the next call works.
    await expect(
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    ).resolves.toBeTruthy();
  });

  it('returns embeddings in base64 (the client default) and as floats', async () => {
    const client = new OpenAI({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
    const a = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'hello brand world',
    });
    const b = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'hello brand world',
      encoding_format: 'float',
    });
    const va = Array.from(a.data[0]!.embedding as ArrayLike<number>);
    expect(va).toHaveLength(1536);
    expect(b.data[0]!.embedding).toHaveLength(1536);
    va.forEach((v, i) => expect(v).toBeCloseTo(b.data[0]!.embedding[i]!, 5));
  });
});
