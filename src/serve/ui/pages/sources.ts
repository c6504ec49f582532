import type {SourceStatus} from '../../sources/source.js'
import {html, type Html} from '../html.js'
import {postButton, when} from '../layout.js'
import {allows, type Session} from '../session.js'

/**
 * The Sources page: each job source, where it is configured and where it reads, how its last look went, what it
 * queued and refused; an admin may remove a source made through the API.
 */
export function sourcesPage(input: {sources: SourceStatus[]; session: Session; notice?: string; error?: string}): Html {
  const canRemove = allows(input.session, 'admin')
  return html`<h1>Sources</h1>
${input.notice ? html`<p class="notice" role="status">${input.notice}</p>` : ''}${input.error ? html`<p class="error" role="alert">${input.error}</p>` : ''}
<div class="scroll"><table><thead><tr><th scope="col">Source</th><th scope="col">Kind</th><th scope="col">Origin</th><th scope="col">Reads</th><th scope="col">Last look</th><th scope="col">Queued</th><th scope="col">Refused</th><th scope="col">Problem</th>${canRemove ? html`<th scope="col">Actions</th>` : ''}</tr></thead>
<tbody>${input.sources.map(
    (s) => html`<tr><td>${s.name}</td><td>${s.kind}</td><td>${s.origin === 'file' ? 'file' : 'API'}</td><td><code>${s.from}</code></td><td>${when(s.lastOkAt)}</td><td>${s.queued}</td><td>${s.refused}</td><td>${s.lastError ? html`<span class="error">${s.lastError}</span>` : ''}</td>${
      canRemove ? html`<td>${s.origin === 'api' ? postButton(input.session, `/ui/sources/${encodeURIComponent(s.name)}/delete`, 'Remove', {danger: true}) : ''}</td>` : ''
    }</tr>`,
  )}</tbody></table></div>
${input.sources.length === 0 ? html`<p class="muted">No job sources: start cms serve with --sources FILE, or add one with POST /mgmt/sources (see the README).</p>` : ''}
<p class="hint">A source whose folder, database or broker cannot be reached keeps trying on its interval; the service goes on. Sources from the --sources file change with the file (and a restart).</p>`
}
