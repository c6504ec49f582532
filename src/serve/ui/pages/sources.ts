import type {SourceStatus} from '../../sources/source.js'
import {html, type Html} from '../html.js'
import {when} from '../layout.js'

/** The Sources page: each job source, where it reads, how its last look went, what it queued and refused. */
export function sourcesPage(input: {sources: SourceStatus[]}): Html {
  return html`<h1>Sources</h1>
<div class="scroll"><table><thead><tr><th scope="col">Source</th><th scope="col">Kind</th><th scope="col">Reads</th><th scope="col">Last look</th><th scope="col">Queued</th><th scope="col">Refused</th><th scope="col">Problem</th></tr></thead>
<tbody>${input.sources.map(
    (s) => html`<tr><td>${s.name}</td><td>${s.kind}</td><td><code>${s.from}</code></td><td>${when(s.lastOkAt)}</td><td>${s.queued}</td><td>${s.refused}</td><td>${s.lastError ? html`<span class="error">${s.lastError}</span>` : ''}</td></tr>`,
  )}</tbody></table></div>
${input.sources.length === 0 ? html`<p class="muted">No job sources: start cms serve with --sources FILE (see the README).</p>` : ''}
<p class="hint">A source whose folder cannot be read keeps trying on its interval; the service goes on.</p>`
}
