/** Test helpers for every workspace: real HTTP fakes of OpenAI and the social platforms, and a fake NodeContext. */
export { startFakeOpenAI, approxTokens } from './fake-openai-server.js';
export type { FakeOpenAI, FakeOpenAIOptions, ChatRequestBody } from './fake-openai-server.js';
export { startFakePlatform } from './fake-platform-server.js';
export type {
  FakePlatform,
  FakePlatformOptions,
  FakePost,
  FakeMetrics,
  FakePlatformName,
} from './fake-platform-server.js';
export type { Fault, RecordedRequest } from './http-util.js';
export { createFakeContext } from './fake-context.js';
export type { FakeContext, FakeContextOptions } from './fake-context.js';
export { createTestHttpClient } from './test-http-client.js';
