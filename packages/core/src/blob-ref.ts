/** A claim-check reference that stands in for a large value in the run state. */
export interface BlobRef {
  $blob: string;
  bytes: number;
  sha256: string;
}

/** Whether a value is a {@link BlobRef}. */
export function isBlobRef(value: unknown): value is BlobRef {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.$blob === 'string' && typeof v.sha256 === 'string' && typeof v.bytes === 'number';
}
