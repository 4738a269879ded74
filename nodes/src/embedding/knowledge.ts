/**
 * Brand knowledge entries with vectors. Prisma does not map pgvector columns, so the vector is
 * written and searched with tagged `$queryRaw` (parameters bound, `::vector` cast). Searches are
 * always scoped to the workspace and to the embedder that produced the query vector.
 */
import { createHash } from 'node:crypto';
import type { Embedding } from '@gridflow/runtime';
import type { PrismaClient } from '@gridflow/db';
import type { Embedder } from './embedder.js';

/** pgvector's text form: `[0.1,0.2,...]`. */
export function toVectorLiteral(vector: readonly number[]): string {
  return `[${vector.map((v) => (Number.isFinite(v) ? v : 0)).join(',')}]`;
}

export interface StoreKnowledgeOptions {
  title?: string;
  category?: string;
  tags?: string[];
}

export interface StoredKnowledgeEntry {
  id: string;
  embedder: string;
  dimension: number;
}

export async function storeKnowledgeEntry(
  db: PrismaClient,
  workspaceId: string,
  brandProfileId: string | null,
  text: string,
  embedder: Embedder,
  options: StoreKnowledgeOptions = {},
): Promise<StoredKnowledgeEntry> {
  const embedding = await embedder.embed(text);
  const contentHash = createHash('sha256').update(text).digest('hex');
  const entry = await db.$transaction(async (tx) => {
    const created = await tx.brandKnowledgeEntry.create({
      data: {
        workspaceId,
        brandProfileId,
        title: options.title ?? text.slice(0, 80),
        content: text,
        ...(options.category ? { category: options.category } : {}),
        tags: options.tags ?? [],
        embedder: embedding.embedder,
        dimension: embedding.dimension,
        contentHash,
      },
      select: { id: true },
    });
    await tx.$executeRaw`UPDATE brand_knowledge_entries SET embedding = ${toVectorLiteral(embedding.vector)}::vector
      WHERE id = ${created.id} AND workspace_id = ${workspaceId}`;
    return created;
  });
  return { id: entry.id, embedder: embedding.embedder, dimension: embedding.dimension };
}

export interface KnowledgeMatch {
  id: string;
  title: string;
  content: string;
  /** Cosine similarity, -1..1 (1 - pgvector cosine distance). */
  similarity: number;
}

/** The `k` entries of the brand closest to `embedding`, from the same embedder and dimension only. */
export async function nearestKnowledge(
  db: PrismaClient,
  workspaceId: string,
  brandProfileId: string,
  embedding: Embedding,
  k = 5,
): Promise<KnowledgeMatch[]> {
  if (!embedding.vector.some((v) => v !== 0)) return []; // cosine distance to a zero vector is undefined
  const literal = toVectorLiteral(embedding.vector);
  const rows = await db.$queryRaw<
    Array<{ id: string; title: string; content: string; similarity: number }>
  >`
    SELECT id, title, content, (1 - (embedding <=> ${literal}::vector))::float8 AS similarity
    FROM brand_knowledge_entries
    WHERE workspace_id = ${workspaceId}
      AND brand_profile_id = ${brandProfileId}
      AND embedder = ${embedding.embedder}
      AND dimension = ${embedding.dimension}
      AND embedding IS NOT NULL
    ORDER BY embedding <=> ${literal}::vector
    LIMIT ${Math.max(1, Math.floor(k))}`;
  return rows.map((r) => ({ ...r, similarity: Number(r.similarity) }));
}
