/**
 * Text embedders. OpenAI (or any OpenAI-compatible server) when a key or base URL is configured,
 * else the deterministic local embedder. Every vector carries the embedder's name and dimension;
 * vectors of different embedders are never compared.
 */
import OpenAI from 'openai';
import type { Embedding } from '@gridflow/runtime';
import { createLocalEmbedder } from './local-embedder.js';
import { mapOpenAIError } from './openai-errors.js';

export interface Embedder {
  /** Stored with each vector, e.g. `openai:text-embedding-3-small` or `local-hash-v1`. */
  name: string;
  dimension: number;
  embed(text: string): Promise<Embedding>;
}

export interface EmbedderOptions {
  openaiApiKey?: string;
  openaiBaseUrl?: string;
  /** Defaults to `text-embedding-3-small`. */
  model?: string;
  /** Dimension of the OpenAI model's vectors; 1536 for text-embedding-3-small. */
  dimension?: number;
  signal?: AbortSignal;
}

export const OPENAI_EMBEDDING_MODEL = 'text-embedding-3-small';

export function createEmbedder(options: EmbedderOptions = {}): Embedder {
  if (!options.openaiApiKey && !options.openaiBaseUrl) return createLocalEmbedder();
  const model = options.model ?? OPENAI_EMBEDDING_MODEL;
  const dimension = options.dimension ?? 1536;
  const client = new OpenAI({
    // OpenAI-compatible local servers (Ollama, vLLM) accept any key; the client insists on one.
    apiKey: options.openaiApiKey ?? 'no-key',
    ...(options.openaiBaseUrl ? { baseURL: options.openaiBaseUrl } : {}),
    // Retries belong to the durable step, not to a hidden loop inside the client.
    maxRetries: 0,
    timeout: 60_000,
  });
  const name = `openai:${model}`;
  return {
    name,
    dimension,
    async embed(text: string): Promise<Embedding> {
      let res;
      try {
        res = await client.embeddings.create(
          { model, input: text, ...(dimension !== 1536 ? { dimensions: dimension } : {}) },
          options.signal ? { signal: options.signal } : undefined,
        );
      } catch (err) {
        throw mapOpenAIError(err, 'embeddings');
      }
      const raw = res.data[0]?.embedding;
      if (!raw) throw new Error('OpenAI embeddings response had no data');
      const vector = Array.from(raw as ArrayLike<number>);
      if (vector.length !== dimension) {
        throw new Error(
          `embedder ${name} returned ${vector.length} dimensions, expected ${dimension}`,
        );
      }
      return { vector, embedder: name, dimension };
    },
  };
}
