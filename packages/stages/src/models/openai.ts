import type { ModelClient, ModelRequest, ModelResponse } from '@baton/core';
import { malformed, providerError } from './errors.js';

/** Options of {@link createOpenAiCompatibleModel}. */
export interface OpenAiCompatibleModelOptions {
  /** Base URL up to `/v1`, e.g. `http://127.0.0.1:11434/v1` (Ollama), vLLM or llama.cpp server. */
  baseUrl: string;
  /** Model name as the server knows it. */
  model: string;
  /** Sent as a bearer token when set. */
  apiKey?: string;
  /** `json_schema` (OpenAI, vLLM, recent Ollama) or `json_object` for servers without schema support. @default 'json_schema' */
  responseFormat?: 'json_schema' | 'json_object';
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

interface ChatCompletion {
  choices?: { message?: { content?: string | null } }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/**
 * A {@link ModelClient} over an OpenAI-compatible chat completions endpoint. 429 maps to
 * `ThrottlingException`, 5xx to `ServiceUnavailableException` (both retried), other 4xx to fatal
 * codes; a body that is not a chat completion is a retryable `ModelErrorException`.
 *
 * @example
 * ```ts
 * const model = createOpenAiCompatibleModel({ baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3.1' });
 * ```
 */
export function createOpenAiCompatibleModel(options: OpenAiCompatibleModelOptions): ModelClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  const url = options.baseUrl.replace(/\/$/, '') + '/chat/completions';
  return {
    modelId: options.model,
    async complete(request: ModelRequest, opts?: { signal?: AbortSignal }): Promise<ModelResponse> {
      const started = Date.now();
      const body: Record<string, unknown> = {
        model: options.model,
        messages: [...(request.system ? [{ role: 'system', content: request.system }] : []), ...request.messages],
        ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
        ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      };
      if (request.jsonSchema) {
        body.response_format =
          options.responseFormat === 'json_object'
            ? { type: 'json_object' }
            : { type: 'json_schema', json_schema: { name: 'answer', schema: request.jsonSchema } };
      }
      let res: Response;
      try {
        res = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
          body: JSON.stringify(body),
          ...(opts?.signal ? { signal: opts.signal } : {}),
        });
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw e;
        throw providerError('openai-compatible', undefined, 503, `cannot reach ${url}: ${(e as Error).message}`);
      }
      const raw = await res.text();
      if (!res.ok) throw providerError('openai-compatible', undefined, res.status, errorMessage(raw));
      let data: ChatCompletion;
      try {
        data = JSON.parse(raw) as ChatCompletion;
      } catch {
        throw malformed('openai-compatible', `body is not JSON: ${raw.slice(0, 120)}`);
      }
      const text = data.choices?.[0]?.message?.content;
      if (typeof text !== 'string') throw malformed('openai-compatible', 'no choices[0].message.content');
      const out: ModelResponse = {
        text,
        usage: { inputTokens: data.usage?.prompt_tokens ?? 0, outputTokens: data.usage?.completion_tokens ?? 0 },
        latencyMs: Date.now() - started,
        modelId: options.model,
      };
      if (request.jsonSchema) {
        try {
          out.json = JSON.parse(text) as unknown;
        } catch {
          // Left to the validator, which reports it precisely and lets repair fix it.
        }
      }
      return out;
    },
  };
}

function errorMessage(raw: string): string {
  try {
    const j = JSON.parse(raw) as { error?: { message?: string } | string };
    return typeof j.error === 'string' ? j.error : (j.error?.message ?? raw.slice(0, 200));
  } catch {
    return raw.slice(0, 200) || '(empty body)';
  }
}
