export {
  createEmbedder,
  OPENAI_EMBEDDING_MODEL,
  type Embedder,
  type EmbedderOptions,
} from './embedder.js';
export {
  createLocalEmbedder,
  cosineSimilarity,
  localEmbedVector,
  LOCAL_EMBEDDER_NAME,
  LOCAL_EMBEDDER_DIMENSION,
} from './local-embedder.js';
export {
  storeKnowledgeEntry,
  nearestKnowledge,
  toVectorLiteral,
  type KnowledgeMatch,
  type StoredKnowledgeEntry,
} from './knowledge.js';
export { mapOpenAIError } from './openai-errors.js';
