import { StageError } from '@baton/core';

/**
 * Why ingest refused a source, in `details.reason` of its `InvalidInput`: a stable word a test,
 * the CLI or the dashboard can match, beside the sentence in the message.
 */
export type RejectReason =
  | 'empty'
  | 'binary'
  | 'unsupported-type'
  | 'too-large'
  | 'unreadable-pdf'
  | 'unreadable-docx'
  | 'zip-entries'
  | 'zip-inflated-size'
  | 'zip-ratio'
  | 'pdf-pages'
  | 'pdf-time'
  | 'html-depth'
  | 'dot-file'
  | 'symlink-outside'
  | 'dangling-symlink'
  | 'not-a-file'
  | 'unreadable-file';

/**
 * An `InvalidInput` error (never retried) that names the file and the reason.
 *
 * @example
 * ```ts
 * throw invalid('scan.pdf', 'unreadable PDF: no %PDF header', 'unreadable-pdf');
 * ```
 */
export function invalid(name: string, reason: string, kind: RejectReason): StageError {
  return new StageError('InvalidInput', `source "${name}": ${reason}`, { details: { file: name, reason: kind } });
}
