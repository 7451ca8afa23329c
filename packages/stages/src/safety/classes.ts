/**
 * The classes of off-script model output the safety check knows, each with the plain-words reason a
 * reviewer reads. The table is the one source: the finding type, the report's wording and the
 * corpus's class names are derived from it.
 */
export const SAFETY_CLASSES = {
  'instruction-override': 'tells the reader or a model to ignore, replace or cancel its instructions',
  'role-switch': 'tries to change who is speaking (a new role or persona, chat-template or speaker markers)',
  'system-prompt-leak': "repeats or talks about the model's own prompt or instructions",
  'tool-call': 'contains tool-call, function-call or shell-command syntax instead of report text',
  'unknown-host-link': 'links to a host that is not among the sources',
  exfiltration: 'an image or link that would send data to an outside host when the report is opened',
  'raw-html': 'contains raw HTML, script or a script URL',
  'invisible-characters': 'contains invisible or smuggled characters (zero-width, bidirectional controls, Unicode tags)',
  'model-self-reference': 'the model talks about itself, refuses or apologises instead of writing the section',
  'encoded-payload': 'contains an encoded blob (base64, hex, percent-encoding) or asks for decoding',
  'reviewer-manipulation': 'addresses the human reviewer to approve, skip or trust the section',
  denylist: "matches one of the report template's denylist patterns",
} as const;

/** Name of a class of off-script output. */
export type SafetyClass = keyof typeof SAFETY_CLASSES;

/** Every class name, in table order. */
export const SAFETY_CLASS_NAMES = Object.keys(SAFETY_CLASSES) as SafetyClass[];

/** One reason a model answer is held for a human. */
export interface SafetyFinding {
  /** The class of off-script output. */
  class: SafetyClass;
  /**
   * What was found, in plain words chosen by the detector. Never quotes the model's text, so it
   * may be shown in the report's placeholder.
   */
  reason: string;
  /** The offending stretch of the model's text (for the reviewer only: escape it, never put it in the report). */
  excerpt: string;
}

/** `instruction-override: <reason>`: one line per finding, free of model text. */
export function describeFinding(f: Pick<SafetyFinding, 'class' | 'reason'>): string {
  return `${f.class}: ${f.reason}`;
}
