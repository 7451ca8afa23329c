import { html, type SafeHtml } from '../html.js';
import { page } from './layout.js';

/** The login form: the dashboard token, exchanged for a session cookie. */
export function loginPage(next: string, failed: boolean): SafeHtml {
  return page(
    'Log in',
    html`<div class="panel"><h1>Log in to Baton</h1>
${failed ? html`<p class="error">That token is not valid.</p>` : ''}
<form method="post" action="/login"><input type="hidden" name="next" value="${next}">
<label for="token">Dashboard token</label><input id="token" name="token" type="password" autocomplete="current-password" size="40" autofocus>
<button type="submit">Log in</button></form></div>`,
  );
}
