/**
 * The link a reviewer receives, re-exported from `@baton/core` where it now lives (a review-gate
 * Lambda builds it without bundling the dashboard). Kept here so existing imports keep working.
 *
 * @example
 * ```ts
 * const link = reviewLink('http://127.0.0.1:4680', notice); // http://127.0.0.1:4680/reviews/<run>/<gate>?token=…
 * ```
 */
export { reviewLink } from '@baton/core/engine';
