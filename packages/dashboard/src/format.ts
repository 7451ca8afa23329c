import type { StepNames } from './step-names.js';

/** "1.2 s", "3 min 4 s", "2 h 5 min", "3 d 4 h": a duration a product manager can read. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "2026-11-23 10:03:00 UTC". */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** "12,345". */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

const STATUS_LABELS: Record<string, string> = {
  running: 'Running',
  waiting: 'Waiting for review',
  succeeded: 'Succeeded',
  failed: 'Failed',
};

const ERROR_LABELS: Record<string, string> = {
  SafetyCheckFailed: 'Held for a person by the safety check',
  ValidationFailed: 'Did not pass validation',
  ApprovalRejected: 'Rejected by the reviewer',
  ThrottlingException: 'The model service was busy',
  InvalidInput: 'Could not use its input',
};

/** An error code in words ("Held for a person by the safety check"), or the code itself. */
export function errorLabel(code: string): string {
  return ERROR_LABELS[code] ?? code;
}

/** The words shown for a status. */
export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}

/**
 * `sections[3]/write` → `sections › item 4 › write`: step paths in words; with the run's
 * {@link StepNames}, `sections › Efficacy results › write` and `ingest › protocol.pdf`.
 */
export function stepLabel(stepPath: string, names?: StepNames): string {
  const parts = stepPath.split('/');
  return parts
    .map((part, i) => {
      const named = names?.get(parts.slice(0, i + 1).join('/')) ?? names?.get(part);
      if (named) return `${part.replace(/\[\d+\]$/, '')} › ${named}`;
      return part.replace(/\[(\d+)\]$/, (_, i: string) => ` › item ${Number(i) + 1}`).replace(/@(\d+)$/, (_, i: string) => ` › round ${Number(i) + 1}`);
    })
    .join(' › ');
}

/**
 * "$1.24", "$0.0042", "€12.50": an amount in the price table's currency. Two decimals from one
 * unit up; below that up to four, so a cheap run does not read as "$0.00".
 */
export function formatMoney(amount: number, currency = 'USD'): string {
  const small = Math.abs(amount) < 1 && amount !== 0;
  return new Intl.NumberFormat('en-US', { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: small ? 4 : 2 }).format(amount);
}
