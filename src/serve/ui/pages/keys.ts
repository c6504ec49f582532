import type {KeyView} from '../../key-admin.js'
import {html, type Html} from '../html.js'
import {csrfField, postButton, when} from '../layout.js'
import type {Session} from '../session.js'

/** The Keys page (admin): every key by name and scope, revoke, and a form for a new one (shown once). */
export function keysPage(input: {keys: KeyView[]; session: Session; created?: {name: string; key: string}; error?: string; notice?: string}): Html {
  return html`<h1>API keys</h1>
${input.error ? html`<p class="error" role="alert">${input.error}</p>` : ''}${input.notice ? html`<p class="notice" role="status">${input.notice}</p>` : ''}
${input.created ? html`<div class="notice" role="status"><p>Key <strong>${input.created.name}</strong> created. Copy it now: it is not shown again.</p><pre>${input.created.key}</pre></div>` : ''}
<div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">Scope</th><th scope="col">Created</th><th scope="col">Revoked</th><th scope="col">Actions</th></tr></thead>
<tbody>${input.keys.map(
    (k) => html`<tr><td>${k.name}</td><td>${k.scope}</td><td>${when(k.createdAt)}</td><td>${when(k.revokedAt)}</td><td>${k.revokedAt || k.name === input.session.keyName ? '' : postButton(input.session, `/ui/keys/${encodeURIComponent(k.name)}/revoke`, 'Revoke', {danger: true})}</td></tr>`,
  )}</tbody></table></div>
<h2>New key</h2>
<form method="post" action="/ui/keys" class="actions">${csrfField(input.session)}
<div><label for="k-name">Name</label><input id="k-name" name="name" type="text" required></div>
<div><label for="k-scope">Scope</label><select id="k-scope" name="scope"><option>read</option><option>submit</option><option>admin</option></select></div>
<div><button type="submit">Create key</button></div></form>`
}
