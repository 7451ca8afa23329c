import { isStageError, type ModelMessage, type ModelRequest, type ModelResponse } from '@baton/core';
import { z } from 'zod';

/** A Bedrock Runtime error as it goes on the wire: HTTP status, `x-amzn-errortype` and a JSON body. */
export interface BedrockWireError {
  status: number;
  type: string;
  message: string;
  /** Extra members of the error shape (ModelErrorException carries originalStatusCode and resourceName). */
  extra?: Record<string, unknown>;
}

/** A Converse request parsed into the Baton request it asks for, and the tool it forces (if any). */
export interface ParsedConverse {
  request: ModelRequest;
  forcedTool?: string;
}

// Only the members this server understands; unknown members of the real API are ignored (passthrough)
// and unsupported content blocks are refused below with a ValidationException that names them.
const ToolResult = z.object({ toolUseId: z.string(), content: z.array(z.object({ text: z.string().optional(), json: z.unknown() }).loose()) }).loose();
const ContentBlock = z
  .object({
    text: z.string().optional(),
    toolUse: z.object({ toolUseId: z.string(), name: z.string(), input: z.unknown() }).loose().optional(),
    toolResult: ToolResult.optional(),
  })
  .loose();
const Message = z.object({ role: z.enum(['user', 'assistant']), content: z.array(ContentBlock).min(1) });
const ToolSpec = z.object({ name: z.string().min(1), description: z.string().optional(), inputSchema: z.object({ json: z.record(z.string(), z.unknown()) }) });
const ConverseBody = z.object({
  messages: z.array(Message).min(1),
  system: z.array(z.object({ text: z.string().optional() }).loose()).optional(),
  inferenceConfig: z
    .object({ maxTokens: z.number().int().min(1).optional(), temperature: z.number().min(0).max(1).optional(), topP: z.number().min(0).max(1).optional() })
    .loose()
    .optional(),
  toolConfig: z
    .object({
      tools: z.array(z.object({ toolSpec: ToolSpec }).loose()).min(1),
      toolChoice: z.object({ auto: z.object({}).optional(), any: z.object({}).optional(), tool: z.object({ name: z.string() }).optional() }).optional(),
    })
    .optional(),
  requestMetadata: z.record(z.string(), z.string()).optional(),
});

const SUPPORTED_BLOCKS = new Set(['text', 'toolUse', 'toolResult', 'cachePoint']);

/** A 400 ValidationException with the given message. */
export function validationError(message: string): BedrockWireError {
  return { status: 400, type: 'ValidationException', message };
}

/**
 * Parses the body of `POST /model/{modelId}/converse` into a Baton {@link ModelRequest}: text
 * blocks of system and messages, inference settings, request metadata, and a forced tool (tool
 * choice `tool`, or `any`: the first tool) whose input schema becomes `jsonSchema`. Returns a
 * ValidationException for what the real service would refuse, or this server does not support.
 */
export function parseConverse(raw: string): ParsedConverse | BedrockWireError {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return validationError('Malformed input request: the request body is not valid JSON, please reformat your input and try again.');
  }
  const parsed = ConverseBody.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const what = issues.map((i) => `Value at '${i.path.join('.') || '(body)'}' failed to satisfy constraint: ${i.message}`).join('; ');
    return validationError(`${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${what}`);
  }
  const body = parsed.data;
  if (body.messages[0]?.role !== 'user')
    return validationError('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
  for (let i = 1; i < body.messages.length; i++) {
    if (body.messages[i]?.role === body.messages[i - 1]?.role)
      return validationError(
        'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
      );
  }
  const messages: ModelMessage[] = [];
  for (const [i, m] of body.messages.entries()) {
    for (const block of m.content) {
      const kinds = Object.keys(block);
      const unsupported = kinds.find((k) => !SUPPORTED_BLOCKS.has(k));
      if (unsupported)
        return validationError(
          `messages.${i}.content: the ${unsupported} content block is not supported by this local Bedrock server (text, toolUse and toolResult are)`,
        );
    }
    messages.push({
      role: m.role,
      content: m.content
        .map(blockText)
        .filter((t) => t !== '')
        .join('\n'),
    });
  }
  const request: ModelRequest = { messages };
  const system = (body.system ?? []).map((s) => s.text ?? '').filter((t) => t !== '');
  if (system.length > 0) request.system = system.join('\n');
  if (body.inferenceConfig?.maxTokens !== undefined) request.maxTokens = body.inferenceConfig.maxTokens;
  if (body.inferenceConfig?.temperature !== undefined) request.temperature = body.inferenceConfig.temperature;
  if (body.requestMetadata) request.metadata = { ...body.requestMetadata };
  const tools = body.toolConfig?.tools ?? [];
  const choice = body.toolConfig?.toolChoice;
  const forced = choice?.tool ? tools.find((t) => t.toolSpec.name === choice.tool?.name) : choice?.any ? tools[0] : undefined;
  if (choice?.tool && !forced) return validationError(`The tool choice names the tool "${choice.tool.name}", which is not in toolConfig.tools.`);
  if (!forced) return { request };
  request.jsonSchema = forced.toolSpec.inputSchema.json;
  return { request, forcedTool: forced.toolSpec.name };
}

function blockText(block: z.infer<typeof ContentBlock>): string {
  if (block.text !== undefined) return block.text;
  if (block.toolUse) return JSON.stringify(block.toolUse.input);
  if (block.toolResult) return block.toolResult.content.map((c) => c.text ?? JSON.stringify(c.json)).join('\n');
  return '';
}

/**
 * The Converse response for a Baton answer: a `toolUse` block holding the JSON when a tool was
 * forced and the model returned JSON, else a text block (so an answer that is not JSON reaches
 * the caller as text, as a real model's would, and the validator and repair handle it).
 */
export function converseResponse(answer: ModelResponse, forcedTool: string | undefined, toolUseId: string, latencyMs: number): Record<string, unknown> {
  const useTool = forcedTool !== undefined && answer.json !== undefined;
  const content = useTool ? [{ toolUse: { toolUseId, name: forcedTool, input: answer.json } }] : [{ text: answer.text }];
  const { inputTokens, outputTokens } = answer.usage;
  return {
    output: { message: { role: 'assistant', content } },
    stopReason: useTool ? 'tool_use' : 'end_turn',
    usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
    metrics: { latencyMs },
  };
}

/** Bedrock's answer to a Baton error code thrown by the model behind the server. */
const BY_CODE: Record<string, Pick<BedrockWireError, 'status' | 'type'>> = {
  ThrottlingException: { status: 429, type: 'ThrottlingException' },
  ModelErrorException: { status: 424, type: 'ModelErrorException' },
  ServiceUnavailableException: { status: 503, type: 'ServiceUnavailableException' },
  'States.Timeout': { status: 408, type: 'ModelTimeoutException' },
  InvalidInput: { status: 400, type: 'ValidationException' },
  ModelAccessDenied: { status: 403, type: 'AccessDeniedException' },
};

/**
 * The Bedrock error for anything a {@link ModelClient} threw: a StageError by its code (see
 * `BY_CODE`), anything else an InternalServerException. An abort (the client went away) is a
 * model timeout.
 */
export function errorFromModel(error: unknown, modelId: string): BedrockWireError {
  const message = error instanceof Error ? error.message : String(error);
  const code = isStageError(error) ? error.code : error instanceof Error && error.name === 'AbortError' ? 'States.Timeout' : undefined;
  const known = code === undefined ? undefined : BY_CODE[code];
  if (!known) return { status: 500, type: 'InternalServerException', message };
  return known.type === 'ModelErrorException' ? { ...known, message, extra: { originalStatusCode: 500, resourceName: modelId } } : { ...known, message };
}

/** The faults {@link LocalBedrock.setOutage} can switch on. */
export type LocalBedrockOutage = 'throttle' | 'unavailable' | 'model-error';

/** The error the real service answers during each kind of outage (statuses and messages as Bedrock sends them). */
export function outageError(kind: LocalBedrockOutage, modelId: string): BedrockWireError {
  switch (kind) {
    case 'throttle':
      return { status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' };
    case 'unavailable':
      return { status: 503, type: 'ServiceUnavailableException', message: 'Bedrock is unable to process your request.' };
    case 'model-error':
      return {
        status: 424,
        type: 'ModelErrorException',
        message: 'The system encountered an unexpected error during processing. Try your request again.',
        extra: { originalStatusCode: 500, resourceName: modelId },
      };
  }
}

/** The refusal of a model id the caller may not invoke, worded like the real service's. */
export function accessDenied(modelId: string): BedrockWireError {
  return { status: 403, type: 'AccessDeniedException', message: `You don't have access to the model with the specified model ID. (model: ${modelId})` };
}

/**
 * Whether a requested model id is among the allowed ones. An ARN and a bare id match when the
 * ARN's resource id (after `foundation-model/` or `inference-profile/`) is that id; two ARNs
 * match only when equal, so a region or account in an allowed ARN is honoured.
 */
export function modelAllowed(allowed: readonly string[], requested: string): boolean {
  return allowed.some((a) => a === requested || (!(isArn(a) && isArn(requested)) && resourceId(a) === resourceId(requested)));
}

const isArn = (id: string): boolean => id.startsWith('arn:');
const resourceId = (id: string): string => (isArn(id) ? id.slice(id.indexOf('/') + 1) : id);
