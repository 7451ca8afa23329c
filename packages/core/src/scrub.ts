/** What a scrubbed secret is replaced with. */
export const SCRUBBED = '[redacted]';

// Names of headers, query parameters and JSON fields whose values are secrets. `token` but not
// `tokens` (usage figures), and not the review `tokenHash` (a digest, shown on purpose).
const SECRET_NAME = String.raw`(?:[\w-]*(?:authorization|api[-_]?key|secret|password|passwd|pwd|cookie|credential|signature|session[-_]?id|access[-_]?key|private[-_]?key|security[-_]?token|session[-_]?token|auth[-_]?token|refresh[-_]?token|access[-_]?token|id[-_]?token)[\w-]*|token|x-api-key|apikey)`;

const RULES: readonly (readonly [RegExp, string | ((...m: string[]) => string)])[] = [
  // user:password@ in any URL (redis://, postgres://, https://)
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*):[^\s@/'"]+@/gi, (_m, head) => `${head}:${SCRUBBED}@`],
  // "Authorization": "Bearer …" / Authorization: Basic … (value up to the end of the line or quote)
  [
    new RegExp(
      String.raw`(["']?\b${SECRET_NAME}["']?\s*[:=]\s*["']?)(?:(?:Bearer|Basic|Token|Digest|AWS4-HMAC-SHA256)\s+)?[^\s"',;&}]+(?:, *(?:SignedHeaders|Signature)=[^\s"',;&}]+)*`,
      'gi',
    ),
    (_m, head) => `${head}${SCRUBBED}`,
  ],
  // a bare scheme + credential anywhere in free text
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, (_m, scheme) => `${scheme} ${SCRUBBED}`],
  // AWS access key ids, JWTs, sk-… API keys, GitHub and Slack tokens
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, SCRUBBED],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g, SCRUBBED],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, SCRUBBED],
  [/\b(?:gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,})/g, SCRUBBED],
];

/**
 * Removes credentials from a text before it is recorded (journal, registry, logs, dashboard,
 * report): passwords in URLs, values of secret-looking headers, query parameters and JSON fields
 * (`Authorization`, `X-Api-Key`, `Cookie`, `token=`, `password`…), bearer and basic credentials,
 * AWS access key ids, JWTs and common API key formats. Provider error texts go through it: a
 * proxy that echoes the request's headers must not put a session token in the run record.
 *
 * @example
 * ```ts
 * scrubSecrets('502 from proxy: authorization: Bearer abc.def.ghi, url redis://:hunter2@cache:6379');
 * // '502 from proxy: authorization: [redacted], url redis://:[redacted]@cache:6379'
 * ```
 */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement as (substring: string, ...args: string[]) => string);
  return out;
}

/** {@link scrubSecrets} applied to every string inside a JSON-like value (keys kept; depth-limited). */
export function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (value === null || typeof value !== 'object' || depth > 12) return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v, depth + 1);
  return out;
}
