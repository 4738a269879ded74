/**
 * A deterministic, offline text embedder: feature hashing of word unigrams, word bigrams and
 * character trigrams into a fixed number of buckets, L2-normalised. No model weights, so it
 * captures shared vocabulary and spelling, not meaning; good enough to rank a brand's own
 * writing above unrelated text, and stable across processes and machines.
 */
import type { Embedding } from '@gridflow/runtime';

export const LOCAL_EMBEDDER_NAME = 'local-hash-v1';
export const LOCAL_EMBEDDER_DIMENSION = 512;

/** FNV-1a, 32 bit: fast, stable, good enough spread for feature hashing. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function tokenize(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}#@']+/u)
    .map((t) => t.replace(/^'+|'+$/g, ''))
    .filter((t) => t.length > 0);
}

function addFeature(vec: Float64Array, feature: string, weight: number): void {
  const h = fnv1a(feature);
  const index = h % vec.length;
  // A second hash decides the sign, so collisions cancel out on average instead of adding up.
  const sign = fnv1a(feature, 0x9747b28c) & 1 ? 1 : -1;
  vec[index] = (vec[index] ?? 0) + sign * weight;
}

/** The raw (normalised) vector; all zeros for text without words. */
export function localEmbedVector(text: string, dimension = LOCAL_EMBEDDER_DIMENSION): number[] {
  const vec = new Float64Array(dimension);
  const words = tokenize(text);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    addFeature(vec, `w:${w}`, 1);
    if (i + 1 < words.length) addFeature(vec, `b:${w} ${words[i + 1]}`, 0.7);
    const padded = ` ${w} `;
    if (padded.length >= 3) {
      const grams = padded.length - 2;
      for (let j = 0; j < grams; j++)
        addFeature(vec, `c:${padded.slice(j, j + 3)}`, 0.5 / Math.sqrt(grams));
    }
  }
  let norm = 0;
  for (const v of vec) norm += v * v;
  norm = Math.sqrt(norm);
  return Array.from(vec, (v) => (norm > 0 ? v / norm : 0));
}

export function createLocalEmbedder(dimension = LOCAL_EMBEDDER_DIMENSION) {
  const name =
    dimension === LOCAL_EMBEDDER_DIMENSION
      ? LOCAL_EMBEDDER_NAME
      : `${LOCAL_EMBEDDER_NAME}-${dimension}`;
  return {
    name,
    dimension,
    async embed(text: string): Promise<Embedding> {
      return { vector: localEmbedVector(text, dimension), embedder: name, dimension };
    },
  };
}

/** Cosine similarity of two vectors of the same length (0 when either is all zeros). */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length)
    throw new Error(`cannot compare vectors of dimension ${a.length} and ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}
