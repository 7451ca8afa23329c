import type { ModelClient } from '@baton/core';
import { createBedrockModel, createOfflineModel, createOpenAiCompatibleModel, type OfflineFaults } from '@baton/stages';
import { CliError } from './errors.js';

/**
 * Builds the model from `--model`: `offline` (default, no network), `bedrock:<modelId>` (AWS
 * credentials and region from the environment) or `openai:<baseUrl>#<model>` (key from
 * `OPENAI_API_KEY`).
 */
export function createModelFromSpec(spec: string, faults: OfflineFaults, offlineLatencyMs = 0): ModelClient {
  if (spec === 'offline') return createOfflineModel({ faults, latencyMs: offlineLatencyMs });
  if (spec.startsWith('bedrock:')) return createBedrockModel({ modelId: spec.slice('bedrock:'.length) });
  if (spec.startsWith('openai:')) {
    const [baseUrl, model] = spec.slice('openai:'.length).split('#');
    if (!baseUrl || !model) throw new CliError(`--model openai:<baseUrl>#<model>, e.g. openai:http://127.0.0.1:11434/v1#llama3.1`);
    return createOpenAiCompatibleModel({ baseUrl, model, ...(process.env.OPENAI_API_KEY ? { apiKey: process.env.OPENAI_API_KEY } : {}) });
  }
  throw new CliError(`unknown --model "${spec}": use offline, bedrock:<modelId> or openai:<baseUrl>#<model>`);
}

/**
 * Parses `--faults` for the offline model:
 * `throttle=a+b,invalid=c,persistent-invalid=d,offscript=e,throttle-rate=0.2,invalid-json-rate=0.1,seed=s`.
 */
export function parseFaults(text: string | undefined): OfflineFaults {
  const faults: OfflineFaults = {};
  if (!text) return faults;
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, value = ''] = part.split('=');
    const list = value.split('+').filter(Boolean);
    const rate = (): number => {
      const n = Number(value);
      if (!(n >= 0 && n <= 1)) throw new CliError(`--faults ${key}=${value}: a rate is a number between 0 and 1`);
      return n;
    };
    switch (key) {
      case 'throttle':
        faults.throttleSections = list;
        break;
      case 'invalid':
        faults.invalidSections = list;
        break;
      case 'persistent-invalid':
        faults.persistentInvalidSections = list;
        break;
      case 'offscript':
        faults.offScriptSections = list;
        break;
      case 'throttle-rate':
        faults.throttleRate = rate();
        break;
      case 'invalid-json-rate':
        faults.invalidJsonRate = rate();
        break;
      case 'seed':
        faults.seed = value;
        break;
      default:
        throw new CliError(`unknown fault "${key}". Known: throttle, invalid, persistent-invalid, offscript, throttle-rate, invalid-json-rate, seed`);
    }
  }
  return faults;
}
