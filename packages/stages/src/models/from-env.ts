import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ModelClient, ModelRequest, ModelResponse, StageError } from '@baton/core';
import { createBedrockModel } from './bedrock.js';
import { awsEnvConfig, cachedSecret, configurationError, isHttpUrl, readSecretString } from './from-env-aws.js';
import { createOpenAiCompatibleModel } from './openai.js';

/** Options of {@link createModelFromEnv}. */
export interface ModelFromEnvOptions {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The stage the model is for, quoted in configuration errors. @default env.BATON_STAGE */
  stage?: string;
}

/**
 * The model client of {@link createModelFromEnv}: a ModelClient that also reports a bad configuration.
 *
 * @example
 * ```ts
 * const model: EnvModelClient = createModelFromEnv({ stage: 'generate' });
 * if (model.configurationError) log.error(model.configurationError.message);
 * ```
 */
export interface EnvModelClient extends ModelClient {
  /** What is wrong with the configuration, when something is: every call throws it. Log it at cold start. */
  readonly configurationError?: StageError;
}

/**
 * The providers `BATON_MODEL_PROVIDER` may name.
 *
 * @example
 * ```ts
 * const provider: (typeof MODEL_PROVIDERS)[number] = 'bedrock';
 * ```
 */
export const MODEL_PROVIDERS = ['bedrock', 'openai-compatible'] as const;

/**
 * The {@link ModelClient} of a deployed stage Lambda, from the variables the CDK construct sets:
 * `BATON_MODEL_PROVIDER` (`bedrock` | `openai-compatible`) and `BATON_MODEL_ID`; for Bedrock the
 * region comes from `AWS_REGION` and the endpoint from the SDK's own variables
 * (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, for the local Bedrock server); for an OpenAI-compatible
 * server `BATON_OPENAI_BASE_URL` and, optionally, `BATON_OPENAI_KEY_SECRET_ARN`, a Secrets Manager
 * secret whose SecretString is the key or `{"apiKey": "..."}`, read on the first call and kept.
 *
 * It never throws: a configuration that is wrong (no provider, an unknown one, no model id, no base
 * URL, a secret that is missing or may not be read) gives a client whose calls throw a fatal
 * `ConfigurationError` naming exactly what to fix, so a Lambda neither crashes at import nor runs
 * with a placeholder model.
 *
 * @example
 * ```ts
 * const model = createModelFromEnv(); // in the stage Lambda's module scope
 * if (model.configurationError) log.error(model.configurationError.message);
 * const answer = await model.complete({ messages: [{ role: 'user', content: 'Summarise…' }] });
 * ```
 */
export function createModelFromEnv(options: ModelFromEnvOptions = {}): EnvModelClient {
  const env = options.env ?? process.env;
  const stage = options.stage ?? env.BATON_STAGE;
  const where = stage ? `stage "${stage}"` : 'this function';
  const provider = env.BATON_MODEL_PROVIDER?.trim();
  const modelId = env.BATON_MODEL_ID?.trim();
  if (!provider) {
    return broken(
      configurationError(
        `${where} calls a model but BATON_MODEL_PROVIDER is not set: give BatonStateMachine a model (props.model or props.models${stage ? `.${stage}` : '[stage]'})`,
        { variable: 'BATON_MODEL_PROVIDER', stage: stage ?? null },
      ),
      modelId,
    );
  }
  if (!(MODEL_PROVIDERS as readonly string[]).includes(provider)) {
    return broken(
      configurationError(
        `${where}: BATON_MODEL_PROVIDER is "${provider}", which is not a model provider: use ${MODEL_PROVIDERS.map((p) => `"${p}"`).join(' or ')}`,
        {
          variable: 'BATON_MODEL_PROVIDER',
          stage: stage ?? null,
        },
      ),
      modelId,
    );
  }
  if (!modelId) {
    const what = provider === 'bedrock' ? 'a Bedrock model id, inference-profile id or ARN' : 'the model name the server knows';
    return broken(
      configurationError(`${where}: BATON_MODEL_PROVIDER is "${provider}" but BATON_MODEL_ID is not set: set it to ${what}`, {
        variable: 'BATON_MODEL_ID',
        stage: stage ?? null,
      }),
    );
  }
  return provider === 'bedrock' ? bedrockFromEnv(env, modelId, where) : openAiFromEnv(env, modelId, where, stage);
}

function bedrockFromEnv(env: NodeJS.ProcessEnv, modelId: string, where: string): EnvModelClient {
  const inner = createBedrockModel({ modelId, clientConfig: awsEnvConfig(env, 'BEDROCK_RUNTIME') });
  return {
    modelId,
    async complete(request: ModelRequest, opts?: { signal?: AbortSignal }): Promise<ModelResponse> {
      try {
        return await inner.complete(request, opts);
      } catch (e) {
        // The SDK finds no region only in a misconfigured environment (Lambda always sets AWS_REGION).
        if (/Region is missing/i.test((e as Error).message))
          throw configurationError(`${where}: no AWS region for Bedrock: set AWS_REGION`, { variable: 'AWS_REGION' });
        throw e;
      }
    },
  };
}

function openAiFromEnv(env: NodeJS.ProcessEnv, model: string, where: string, stage: string | undefined): EnvModelClient {
  const baseUrl = env.BATON_OPENAI_BASE_URL?.trim();
  if (!baseUrl) {
    return broken(
      configurationError(
        `${where}: BATON_MODEL_PROVIDER is "openai-compatible" but BATON_OPENAI_BASE_URL is not set: set it to the server's base URL, e.g. https://host/v1`,
        {
          variable: 'BATON_OPENAI_BASE_URL',
          stage: stage ?? null,
        },
      ),
      model,
    );
  }
  if (!isHttpUrl(baseUrl)) {
    return broken(
      configurationError(
        `${where}: BATON_OPENAI_BASE_URL is "${baseUrl}", which is not an http(s) URL: set it to the server's base URL, e.g. https://host/v1`,
        { variable: 'BATON_OPENAI_BASE_URL' },
      ),
      model,
    );
  }
  const secretArn = env.BATON_OPENAI_KEY_SECRET_ARN?.trim();
  if (!secretArn) return createOpenAiCompatibleModel({ baseUrl, model });
  let secrets: SecretsManagerClient | undefined;
  const apiKey = cachedSecret(async () => {
    secrets ??= new SecretsManagerClient(awsEnvConfig(env, 'SECRETS_MANAGER'));
    return apiKeyOf(await readSecretString(secrets, secretArn, 'BATON_OPENAI_KEY_SECRET_ARN'), secretArn);
  });
  let inner: ModelClient | undefined;
  return {
    modelId: model,
    async complete(request, opts) {
      inner ??= createOpenAiCompatibleModel({ baseUrl, model, apiKey: await apiKey() });
      return inner.complete(request, opts);
    },
  };
}

/** The key in a SecretString: the string itself, or the `apiKey` member of a JSON object. */
function apiKeyOf(secret: string, secretArn: string): string {
  const text = secret.trim();
  if (!text.startsWith('{')) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw configurationError(
      `secret "${secretArn}" (named by BATON_OPENAI_KEY_SECRET_ARN) starts with "{" but is not JSON: store the key itself, or {"apiKey": "..."}`,
      { secretId: secretArn },
    );
  }
  const key = (parsed as { apiKey?: unknown }).apiKey;
  if (typeof key !== 'string' || key === '') {
    throw configurationError(
      `secret "${secretArn}" (named by BATON_OPENAI_KEY_SECRET_ARN) is JSON without a string "apiKey" member: store the key itself, or {"apiKey": "..."}`,
      { secretId: secretArn },
    );
  }
  return key;
}

/** A client whose every call throws `error`. */
function broken(error: StageError, modelId?: string): EnvModelClient {
  return {
    modelId: modelId || '(model not configured)',
    configurationError: error,
    complete: () => Promise.reject(error),
  };
}
