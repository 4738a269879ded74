/**
 * A real HTTP server speaking OpenAI's wire format, for tests that use the real `openai` client:
 * `POST /v1/chat/completions` (n choices, usage), `POST /v1/embeddings` (float or base64),
 * `POST /v1/images/generations`. Checks the bearer key, records every request, and can inject
 * 429 (with Retry-After) or 5xx answers for the next N calls.
 */
import { localEmbedVector } from '../embedding/local-embedder.js';
import {
  bearer,
  listen,
  readRequest,
  sendJson,
  type Fault,
  type RecordedRequest,
} from './http-util.js';

export interface ChatMessage {
  role: string;
  content: string | Array<{ type: string; text?: string }> | null;
}

export interface ChatRequestBody {
  model: string;
  messages: ChatMessage[];
  n?: number;
  temperature?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
}

export interface FakeOpenAIOptions {
  /** The key clients must send as `Authorization: Bearer <key>`. Default `test-openai-key`. */
  apiKey?: string;
  /** Builds the assistant message of choice `index`. Default: a short post derived from the last user message. */
  reply?: (body: ChatRequestBody, index: number) => string;
  /** Delay before every answer (simulates model latency). Default 0. */
  latencyMs?: number;
}

export interface FakeOpenAI {
  /** Base URL including `/v1`, ready for `new OpenAI({ baseURL })`. */
  url: string;
  apiKey: string;
  requests: RecordedRequest[];
  /** The next `count` requests (optionally only those under `pathPrefix`) fail with `status`. */
  failNext(count: number, fault: Fault): void;
  setReply(reply: FakeOpenAIOptions['reply']): void;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

/** Rough token count (~4 characters per token), like OpenAI's rule of thumb. */
export function approxTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function contentText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => p.text ?? '').join(' ');
  return '';
}

function defaultReply(body: ChatRequestBody, index: number): string {
  const user = [...body.messages].reverse().find((m) => m.role === 'user');
  const brief = contentText(user?.content ?? '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 180);
  return `Variant ${index + 1}: ${brief}`;
}

function errorBody(status: number, message: string) {
  const type =
    status === 429
      ? 'rate_limit_exceeded'
      : status >= 500
        ? 'server_error'
        : 'invalid_request_error';
  return { error: { message, type, param: null, code: status === 401 ? 'invalid_api_key' : type } };
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const apiKey = options.apiKey ?? 'test-openai-key';
  let reply = options.reply ?? defaultReply;
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  let seq = 0;
  let latencyMs = options.latencyMs ?? 0;

  const listening = await listen(async (req, res) => {
    const r = await readRequest(req);
    requests.push(r);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    const faultIndex = faults.findIndex((f) => !f.pathPrefix || r.path.startsWith(f.pathPrefix));
    if (faultIndex >= 0) {
      const fault = faults.splice(faultIndex, 1)[0]!;
      sendJson(
        res,
        fault.status,
        errorBody(fault.status, fault.message ?? `injected ${fault.status}`),
        {
          ...(fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {}),
        },
      );
      return;
    }
    if (bearer(r.headers) !== apiKey) {
      sendJson(res, 401, errorBody(401, 'Incorrect API key provided.'));
      return;
    }
    const body = (r.body ?? {}) as Record<string, unknown>;
    if (r.method === 'POST' && r.path === '/v1/chat/completions') {
      const chat = body as unknown as ChatRequestBody;
      if (
        typeof chat.model !== 'string' ||
        !Array.isArray(chat.messages) ||
        chat.messages.length === 0
      ) {
        sendJson(
          res,
          400,
          errorBody(400, "'model' and a non-empty 'messages' array are required."),
        );
        return;
      }
      const n = chat.n ?? 1;
      if (!Number.isInteger(n) || n < 1 || n > 128) {
        sendJson(res, 400, errorBody(400, `Invalid 'n': ${String(chat.n)}`));
        return;
      }
      const limit = chat.max_completion_tokens ?? chat.max_tokens;
      const promptTokens = approxTokens(
        chat.messages.map((m) => contentText(m.content)).join('\n'),
      );
      let completionTokens = 0;
      const choices = Array.from({ length: n }, (_, index) => {
        let content = reply(chat, index);
        let finish = 'stop';
        if (limit !== undefined && approxTokens(content) > limit) {
          content = content.slice(0, limit * 4);
          finish = 'length';
        }
        completionTokens += approxTokens(content);
        return {
          index,
          message: { role: 'assistant', content, refusal: null },
          logprobs: null,
          finish_reason: finish,
        };
      });
      sendJson(res, 200, {
        id: `chatcmpl-fake${++seq}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: chat.model,
        choices,
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
      });
      return;
    }
    if (r.method === 'POST' && r.path === '/v1/embeddings') {
      const input = body['input'];
      const inputs =
        typeof input === 'string' ? [input] : Array.isArray(input) ? (input as unknown[]) : null;
      if (
        typeof body['model'] !== 'string' ||
        !inputs ||
        inputs.some((i) => typeof i !== 'string')
      ) {
        sendJson(
          res,
          400,
          errorBody(400, "'model' and a string or string[] 'input' are required."),
        );
        return;
      }
      const dimension = typeof body['dimensions'] === 'number' ? body['dimensions'] : 1536;
      const base64 = body['encoding_format'] === 'base64';
      const data = (inputs as string[]).map((text, index) => {
        const vec = localEmbedVector(text, dimension);
        const embedding = base64
          ? Buffer.from(new Float32Array(vec).buffer).toString('base64')
          : vec;
        return { object: 'embedding', index, embedding };
      });
      const tokens = (inputs as string[]).reduce((s, t) => s + approxTokens(t), 0);
      sendJson(res, 200, {
        object: 'list',
        data,
        model: body['model'],
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
      return;
    }
    if (r.method === 'POST' && r.path === '/v1/images/generations') {
      if (typeof body['prompt'] !== 'string' || !body['prompt']) {
        sendJson(res, 400, errorBody(400, "'prompt' is required."));
        return;
      }
      const n = typeof body['n'] === 'number' ? body['n'] : 1;
      sendJson(res, 200, {
        created: Math.floor(Date.now() / 1000),
        data: Array.from({ length: n }, (_, i) => ({
          url: `${listening.url}/images/fake-${++seq}-${i}.png`,
          revised_prompt: body['prompt'],
        })),
      });
      return;
    }
    sendJson(res, 404, errorBody(404, `Unknown route ${r.method} ${r.path}`));
  });

  return {
    url: `${listening.url}/v1`,
    apiKey,
    requests,
    failNext(count, fault) {
      for (let i = 0; i < count; i++) faults.push({ ...fault });
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    setReply(next) {
      reply = next ?? defaultReply;
    },
    close: listening.close,
  };
}
