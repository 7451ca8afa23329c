import {
  BedrockRuntimeClient,
  ConverseCommand,
  type BedrockRuntimeClientConfig,
  type ContentBlock,
  type Message,
  type ToolInputSchema,
} from '@aws-sdk/client-bedrock-runtime';
import type { ModelClient, ModelRequest, ModelResponse } from '@baton/core';
import { malformed, providerError } from './errors.js';

/** Options of {@link createBedrockModel}. */
export interface BedrockModelOptions {
  /** Model or inference profile id, e.g. `anthropic.claude-3-5-sonnet-20240620-v1:0`. */
  modelId: string;
  /** A client to reuse; otherwise one is built from `clientConfig`. */
  client?: BedrockRuntimeClient;
  /** Region, endpoint, credentials… (`endpoint` points tests at a local server). */
  clientConfig?: BedrockRuntimeClientConfig;
  /** Name of the tool used to get JSON output. @default 'emit_json' */
  toolName?: string;
}

/**
 * A {@link ModelClient} over Amazon Bedrock's Converse API. Structured output uses tool use: the
 * JSON Schema becomes the tool's input schema and the model is forced to call it. Provider errors
 * map to Baton codes (throttling, model errors and timeouts, unavailability: retryable;
 * validation and access denial: fatal); token usage comes from the response.
 *
 * @example
 * ```ts
 * const model = createBedrockModel({ modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0', clientConfig: { region: 'us-east-1' } });
 * ```
 */
export function createBedrockModel(options: BedrockModelOptions): ModelClient {
  const client = options.client ?? new BedrockRuntimeClient({ maxAttempts: 1, ...options.clientConfig });
  const toolName = options.toolName ?? 'emit_json';
  return {
    modelId: options.modelId,
    async complete(request: ModelRequest, opts?: { signal?: AbortSignal }): Promise<ModelResponse> {
      const started = Date.now();
      const command = new ConverseCommand({
        modelId: options.modelId,
        messages: request.messages.map((m): Message => ({ role: m.role, content: [{ text: m.content }] })),
        ...(request.system ? { system: [{ text: request.system }] } : {}),
        inferenceConfig: {
          ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
          ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
        },
        ...(request.jsonSchema
          ? {
              toolConfig: {
                tools: [
                  {
                    toolSpec: {
                      name: toolName,
                      description: 'Return the answer as JSON matching the schema.',
                      inputSchema: { json: request.jsonSchema as ToolInputSchema.JsonMember['json'] },
                    },
                  },
                ],
                toolChoice: { tool: { name: toolName } },
              },
            }
          : {}),
      });
      let response;
      try {
        response = await client.send(command, opts?.signal ? { abortSignal: opts.signal } : {});
      } catch (e) {
        const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $fault?: string };
        if (err.name === 'AbortError') throw e;
        const status = err.$metadata?.httpStatusCode;
        // A success status with a body the SDK could not parse is a malformed answer (retryable).
        if ((status !== undefined && status >= 200 && status < 300) || /Deserialization|SyntaxError/i.test(`${err.name} ${err.message}`)) {
          throw malformed('bedrock', `${err.name ?? 'error'}: ${err.message ?? ''}`);
        }
        throw providerError('bedrock', err.name && err.name !== 'Error' ? err.name : undefined, status, err.message ?? 'unknown error');
      }
      const content: ContentBlock[] = response.output?.message?.content ?? [];
      if (!response.output?.message) throw malformed('bedrock', 'no output message');
      const text = content.map((c) => c.text ?? '').join('');
      const tool = content.find((c) => c.toolUse)?.toolUse;
      if (request.jsonSchema && !tool && !text) throw malformed('bedrock', 'no tool use and no text in the answer');
      const out: ModelResponse = {
        text: tool ? JSON.stringify(tool.input) : text,
        usage: { inputTokens: response.usage?.inputTokens ?? 0, outputTokens: response.usage?.outputTokens ?? 0 },
        latencyMs: response.metrics?.latencyMs ?? Date.now() - started,
        modelId: options.modelId,
      };
      if (tool) out.json = tool.input;
      return out;
    },
  };
}
