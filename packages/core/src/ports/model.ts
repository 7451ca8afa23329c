/** One message of a model conversation. */
export interface ModelMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** A request to a model, vendor-neutral. */
export interface ModelRequest {
  system?: string;
  messages: ModelMessage[];
  /** Ask for JSON matching this JSON Schema (tool use on Bedrock, response_format elsewhere). */
  jsonSchema?: Record<string, unknown>;
  maxTokens?: number;
  temperature?: number;
  /** Free-form hints a client may use (the offline model reads fault injection flags here). */
  metadata?: Record<string, unknown>;
}

/** Token counts of one call. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** A model's answer with its usage and latency. */
export interface ModelResponse {
  text: string;
  /** Parsed structured output, when JSON was requested and returned. */
  json?: unknown;
  usage: TokenUsage;
  latencyMs: number;
  modelId: string;
}

/**
 * The model port. Implementations map provider errors to Baton codes: throttling,
 * model errors and unavailability to retryable codes, bad requests and access denial to fatal ones.
 */
export interface ModelClient {
  readonly modelId: string;
  complete(request: ModelRequest, options?: { signal?: AbortSignal }): Promise<ModelResponse>;
}
