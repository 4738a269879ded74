/**
 * Starts the fake OpenAI and fake platform servers as a standalone process (for e2e runs,
 * benchmarks and manual tries against a real Gridflow server), prints their URLs as one JSON line
 * on stdout, and stays up until SIGINT/SIGTERM.
 *
 *   node --import tsx nodes/src/testing/fake-servers-main.ts [--latency-ms N]
 *
 * Point Gridflow at them with OPENAI_BASE_URL=<openai> OPENAI_API_KEY=<apiKey> and the platform
 * base URL settings (LinkedIn/X: <platform>, Facebook/Instagram: <platform>/v21.0).
 */
import { startFakeOpenAI } from './fake-openai-server.js';
import { startFakePlatform } from './fake-platform-server.js';

const i = process.argv.indexOf('--latency-ms');
const latencyMs = i > 0 ? Number(process.argv[i + 1]) || 0 : 0;
const [openai, platform] = await Promise.all([
  startFakeOpenAI({ latencyMs }),
  startFakePlatform({ latencyMs }),
]);
process.stdout.write(
  `${JSON.stringify({ openai: openai.url, apiKey: openai.apiKey, platform: platform.url, graph: `${platform.url}/v21.0`, accessToken: 'test-access-token', refreshToken: 'test-refresh-token' })}\n`,
);
const stop = async () => {
  await Promise.all([openai.close(), platform.close()]);
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
