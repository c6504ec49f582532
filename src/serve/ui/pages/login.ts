import {html, type Html} from '../html.js'

/** The login page: an API key (any scope) opens a session; the key itself is never stored in the browser. */
export function loginPage(input: {error?: string; next?: string; csrf: string}): Html {
  return html`<h1>Log in</h1>
${input.error ? html`<p class="error" role="alert">${input.error}</p>` : ''}
<form method="post" action="/ui/login">
<input type="hidden" name="_csrf" value="${input.csrf}">
<input type="hidden" name="next" value="${input.next ?? '/ui/tasks'}">
<label for="key">API key <span class="hint">from cms serve keys create</span></label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<p><button type="submit">Log in</button></p>
</form>`
}
