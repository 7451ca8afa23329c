import { StageError } from '@baton/core';
import { scrubSecrets } from '@baton/core/engine';

/** How a provider error name maps to a Baton code: retryable provider trouble vs fatal request errors. */
const PROVIDER_CODES: Record<string, { code: string; retryable: boolean }> = {
  ThrottlingException: { code: 'ThrottlingException', retryable: true },
  TooManyRequestsException: { code: 'ThrottlingException', retryable: true },
  ServiceQuotaExceededException: { code: 'ThrottlingException', retryable: true },
  ModelErrorException: { code: 'ModelErrorException', retryable: true },
  ModelTimeoutException: { code: 'ModelErrorException', retryable: true },
  ModelNotReadyException: { code: 'ServiceUnavailableException', retryable: true },
  ServiceUnavailableException: { code: 'ServiceUnavailableException', retryable: true },
  InternalServerException: { code: 'ServiceUnavailableException', retryable: true },
  ValidationException: { code: 'InvalidInput', retryable: false },
  AccessDeniedException: { code: 'ModelAccessDenied', retryable: false },
  UnrecognizedClientException: { code: 'ModelAccessDenied', retryable: false },
  ResourceNotFoundException: { code: 'InvalidInput', retryable: false },
};

/**
 * Maps a provider error (by its AWS error name, or by HTTP status when there is none) to a
 * {@link StageError}: throttling, model errors, timeouts and unavailability are retryable;
 * validation and access errors are fatal. The provider's own name and status stay in `details`;
 * credentials in the provider's text are removed ({@link scrubSecrets}).
 */
export function providerError(provider: string, name: string | undefined, status: number | undefined, message: string): StageError {
  const known = name ? PROVIDER_CODES[name] : undefined;
  const mapped = known ?? byStatus(status);
  // provider and proxy error texts can echo the request's headers: scrubbed before anything keeps them
  return new StageError(mapped.code, `${provider}: ${name ?? `HTTP ${status ?? '?'}`}: ${scrubSecrets(message)}`, {
    retryable: mapped.retryable,
    details: { provider, providerCode: name ?? null, httpStatus: status ?? null },
  });
}

function byStatus(status: number | undefined): { code: string; retryable: boolean } {
  if (status === 429) return { code: 'ThrottlingException', retryable: true };
  if (status === 408) return { code: 'ModelErrorException', retryable: true };
  if (status === 401 || status === 403) return { code: 'ModelAccessDenied', retryable: false };
  if (status !== undefined && status >= 400 && status < 500) return { code: 'InvalidInput', retryable: false };
  return { code: 'ServiceUnavailableException', retryable: true };
}

/** A malformed provider response: retryable as a model error. */
export function malformed(provider: string, what: string): StageError {
  return new StageError('ModelErrorException', `${provider}: malformed response: ${scrubSecrets(what)}`, {
    retryable: true,
    details: { provider, malformed: true },
  });
}
