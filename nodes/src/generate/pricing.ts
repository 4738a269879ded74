/**
 * USD list prices, per 1M tokens (text) or per image, used to record ApiUsage cost. Models not
 * listed (local OpenAI-compatible servers: Ollama, vLLM, LM Studio) cost 0 and are marked unpriced.
 */
interface TextPrice {
  input: number;
  output: number;
}

const TEXT_PRICES: Record<string, TextPrice> = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
};

const IMAGE_PRICES: Record<string, number> = {
  'dall-e-3': 0.04,
  'dall-e-2': 0.02,
  'gpt-image-1': 0.042,
};

function lookup<T>(table: Record<string, T>, model: string): T | undefined {
  if (table[model]) return table[model];
  // Dated snapshots (gpt-4o-mini-2024-07-18) cost what their family costs: longest prefix wins.
  const family = Object.keys(table)
    .filter((k) => model.startsWith(`${k}-`))
    .sort((a, b) => b.length - a.length)[0];
  return family ? table[family] : undefined;
}

export function textCost(
  model: string,
  promptTokens: number,
  completionTokens: number,
): { costUsd: number; priced: boolean } {
  const p = lookup(TEXT_PRICES, model);
  if (!p) return { costUsd: 0, priced: false };
  return {
    costUsd: round6((promptTokens * p.input + completionTokens * p.output) / 1_000_000),
    priced: true,
  };
}

export function imageCost(model: string, images: number): { costUsd: number; priced: boolean } {
  const p = lookup(IMAGE_PRICES, model);
  return p === undefined
    ? { costUsd: 0, priced: false }
    : { costUsd: round6(p * images), priced: true };
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
