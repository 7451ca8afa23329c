import { html, raw, type SafeHtml } from '../html.js';

const STYLE = raw(`
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:.6rem 1.5rem;display:flex;gap:1.5rem;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}header form{margin-left:auto}
main{padding:1.2rem 1.5rem;max-width:1200px}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.4rem 0 .6rem}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e3e6eb;vertical-align:top;font-size:.92rem}
th{background:#eef0f4;font-weight:600}
.badge{display:inline-block;padding:.1rem .55rem;border-radius:1rem;font-size:.82rem;font-weight:600}
.running{background:#dbeafe;color:#1e40af}.waiting{background:#fef3c7;color:#92400e}.succeeded{background:#dcfce7;color:#166534}.failed{background:#fee2e2;color:#991b1b}
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin-bottom:1rem}.card{background:#fff;border:1px solid #e3e6eb;border-radius:.5rem;padding:.7rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.5rem}.muted{color:#667085}.error{color:#991b1b}
.bar{position:relative;height:.7rem;background:#eef0f4;border-radius:.3rem;min-width:8rem}.bar span{position:absolute;top:0;height:100%;border-radius:.3rem;background:#60a5fa}
.bar span.failed{background:#f87171}.bar span.running{background:#fbbf24}
.panel{background:#fff;border:1px solid #e3e6eb;border-radius:.5rem;padding:1rem;margin-bottom:1rem}
.notice{background:#fffbeb;border:1px solid #f59e0b}.alert{background:#fef2f2;border:1px solid #ef4444}
dl.data{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dl.data dt{font-weight:600}dl.data dd{margin:0;white-space:pre-wrap}
ol.data{margin:0;padding-left:1.4rem}ol.data>li{margin:.4rem 0;padding:.5rem;background:#fafbfc;border:1px solid #eef0f4;border-radius:.4rem}
form.filters{display:flex;gap:.8rem;align-items:end;margin-bottom:1rem;flex-wrap:wrap}label{display:block;font-size:.85rem;font-weight:600}
input,select,textarea{font:inherit;padding:.3rem .4rem}textarea{width:100%;min-height:5rem}
button{font:inherit;padding:.45rem 1.1rem;border-radius:.4rem;border:1px solid #cbd2dc;background:#fff;cursor:pointer}
button.approve{background:#16a34a;color:#fff;border-color:#15803d}button.reject{background:#dc2626;color:#fff;border-color:#b91c1c}
a:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible,select:focus-visible{outline:3px solid #2563eb;outline-offset:2px}
.review-section{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:1rem}.review-section>*{min-width:0}
.review-section .text p{line-height:1.55;margin:.4rem 0}.review-section h2{margin-top:0}
.cite{font-size:.78rem;text-decoration:none;background:#eef2ff;border-radius:.3rem;padding:0 .25rem;margin-left:.15rem}
.excerpt{font-size:.88rem;border-left:3px solid #c7d2fe;padding:.2rem .6rem;margin:.5rem 0}.excerpt:target{background:#eef2ff}
fieldset.verdict{grid-column:1/-1;border:1px solid #e3e6eb;border-radius:.4rem}fieldset.verdict label{display:inline-block;margin-right:1.2rem;font-weight:500}
fieldset.verdict label.note{display:block;margin-top:.5rem;font-weight:600}
nav.toc ol{margin:.2rem 0;padding-left:1.4rem}pre.model{white-space:pre-wrap;background:#fafbfc;padding:.6rem;border-radius:.4rem}
`);

/** What the layout needs to know about the viewer. */
export interface LayoutOptions {
  /** Reload the page every n seconds (runs in flight). */
  refreshSeconds?: number;
  /** CSRF secret for the logout form; omitted on the login page. */
  csrf?: string;
}

/** The HTML page around a view. */
export function page(title: string, body: SafeHtml, options: LayoutOptions = {}): SafeHtml {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}
<title>${title} · Baton</title><style>${STYLE}</style></head>
<body><header><a href="/">Baton runs</a><a href="/reviews">Reviews</a>
${options.csrf ? html`<form method="post" action="/logout"><input type="hidden" name="csrf" value="${options.csrf}"><button type="submit">Log out</button></form>` : ''}
</header><main>${body}</main></body></html>`;
}

/** A page that explains one thing (an error, a rejected link). */
export function messagePage(title: string, message: string, options: LayoutOptions & { back?: { href: string; label: string } } = {}): SafeHtml {
  return page(
    title,
    html`<div class="panel alert"><h1>${title}</h1><p>${message}</p>${options.back ? html`<p><a href="${options.back.href}">${options.back.label}</a></p>` : ''}</div>`,
    options,
  );
}

/** A status badge. */
export function badge(status: string, label: string): SafeHtml {
  return html`<span class="badge ${status}">${label}</span>`;
}
