import type { SafetyFinding } from './classes.js';

/** A URL found in a text. */
export interface FoundUrl {
  /** The URL as written (normalised text). */
  url: string;
  /** Host, lower case, without `www.`, port or trailing dot; `''` when none could be read. */
  host: string;
  /** An image (Markdown `![]()`, reference-style image or `<img src>`): fetched as soon as the report is opened. */
  image: boolean;
  /** Query string and fragment, without `?`/`#`. */
  query: string;
  /** The path after the host. */
  path: string;
}

const TLDS =
  'com|net|org|io|ru|cn|xyz|top|info|biz|me|co|app|dev|site|online|tk|ml|ga|cf|gq|ly|sh|link|click|zip|mov|cc|su|pw|ws|to|in|us|uk|de|fr|eu|gov|edu|ai|ngrok|page|cloud|store|live|tech|space|website|icu|buzz|win|bid|loan|work|example|test|invalid|localhost|internal|onion';
const URL_RE = new RegExp(
  [
    String.raw`\bmailto:[^\s<>"'()\[\]]+`,
    String.raw`\b[a-z0-9._%+-]+@(?:[a-z0-9-]+\.)+[a-z]{2,}\b`,
    String.raw`(?:\b[a-z][a-z0-9+.-]{1,15}:)?\/\/[^\s<>"'\x60()\[\]{}|\\^]+`,
    String.raw`\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:[/?#][^\s<>"'()\[\]]*)?`,
    String.raw`\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:${TLDS})\b(?::\d+)?(?:[/?#][^\s<>"'()\[\]]*)?`,
    String.raw`\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\/[^\s<>"'()\[\]]*`,
  ].join('|'),
  'g',
);
const MD_IMAGE = /!\s*\[[^\]]*\]\s*\(\s*<?([^)\s>]+)/g;
const REF_IMAGE = /!\s*\[[^\]]*\]\s*\[([^\]]+)\]/g;
const HTML_IMAGE = /<\s*(?:img|image|source|video|audio|iframe|embed|input)\b[^>]*?\b(?:src|srcset|href|data|poster)\s*=\s*["']?([^"'\s>]+)/g;

/** Every URL of a (normalised) text, images marked. */
export function findUrls(text: string): FoundUrl[] {
  const t = text.replace(/[\u3002\uff61]/g, '.');
  const imageUrls = new Set<string>();
  for (const m of t.matchAll(MD_IMAGE)) imageUrls.add(m[1]!);
  for (const m of t.matchAll(HTML_IMAGE)) imageUrls.add(m[1]!);
  for (const m of t.matchAll(REF_IMAGE)) {
    const def = new RegExp(String.raw`\[${m[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\]\s*:\s*<?(\S+?)>?(?:\s|$)`).exec(t);
    if (def) imageUrls.add(def[1]!);
  }
  const out: FoundUrl[] = [];
  for (const m of t.matchAll(URL_RE)) {
    const url = m[0].replace(/[.,;:!?'")\]]+$/, '');
    out.push({ ...parse(url), url, image: [...imageUrls].some((i) => i.includes(url) || url.includes(i)) });
  }
  for (const i of imageUrls) {
    if (!out.some((u) => u.image && (i.includes(u.url) || u.url.includes(i)))) out.push({ ...parse(i), url: i, image: true });
  }
  return out;
}

/** The hosts named in texts (the sources' own hosts: links to them are allowed). */
export function hostsOf(texts: Iterable<string>): Set<string> {
  const hosts = new Set<string>();
  for (const t of texts) for (const u of findUrls(t.toLowerCase())) if (u.host) hosts.add(u.host);
  return hosts;
}

/**
 * Findings for links and images: a link to a host not among the sources, and exfiltration: an
 * image from such a host (it loads by itself), any image carrying a query, or a link whose query
 * or path carries data.
 */
export function linkFindings(text: string, allowedHosts: ReadonlySet<string>): SafetyFinding[] {
  const out: SafetyFinding[] = [];
  for (const u of findUrls(text)) {
    const allowed = u.host !== '' && allowedHosts.has(u.host);
    const data = carriesData(u);
    if (u.image && (!allowed || u.query !== '')) {
      out.push({
        class: 'exfiltration',
        reason: u.query ? 'an image whose address carries data in its query' : 'an image loaded from a host that is not among the sources',
        excerpt: u.url,
      });
    } else if (!allowed && data) {
      out.push({ class: 'exfiltration', reason: 'a link to an outside host whose address carries data', excerpt: u.url });
    }
    if (!allowed)
      out.push({
        class: 'unknown-host-link',
        reason:
          u.url.includes('@') && !u.url.includes('/')
            ? 'an e-mail link to an address that is not among the sources'
            : 'a link to a host that is not among the sources',
        excerpt: u.url,
      });
  }
  return out;
}

function parse(url: string): Pick<FoundUrl, 'host' | 'query' | 'path'> {
  if (url.startsWith('mailto:') || /^[^/:]+@/.test(url)) {
    const [addr = '', query = ''] = url.replace(/^mailto:/, '').split('?');
    return { host: clean(addr.split('@').pop() ?? ''), query, path: '' };
  }
  try {
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//.test(url) ? url : `https://${url.replace(/^\/\//, '')}`);
    return { host: clean(u.hostname), query: `${u.search.slice(1)}${u.hash ? `#${u.hash.slice(1)}` : ''}`, path: u.pathname };
  } catch {
    const host = /^(?:[a-z][a-z0-9+.-]*:)?\/\/(?:[^@/]*@)?([^/:?#]+)/.exec(url)?.[1] ?? '';
    return { host: clean(host), query: url.split(/[?#]/).slice(1).join('?'), path: '' };
  }
}

function clean(host: string): string {
  return host
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^www\./, '');
}

function carriesData(u: FoundUrl): boolean {
  if (u.query.length >= 8) return true;
  if (/[{}$]|%7b|%7d|\{\{/.test(u.url)) return true;
  return u.path.split('/').some((seg) => seg.length >= 24 && /[0-9]/.test(seg) && /[a-z]/i.test(seg));
}
