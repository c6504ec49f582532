import type {EventView, TaskView} from '../../views.js'
import {html, type Html} from '../html.js'
import {csrfField, postButton, stateChip, when} from '../layout.js'
import {allows, type Session} from '../session.js'

const FINISHED = new Set(['SUCCEEDED', 'KILLED', 'DEAD'])

/** One task: its buttons (for keys that may use them), spec, attempts, the audit trail as a timeline, live logs. */
export function taskPage(input: {task: TaskView; events: EventView[]; session: Session; notice?: string; error?: string}): Html {
  const {task: t, session} = input
  const id = encodeURIComponent(t.id)
  const canChange = allows(session, 'submit')
  const finished = FINISHED.has(t.state)
  const hasJob = t.attempts?.some((a) => a.engineJobId)
  return html`<h1>Task ${t.id}</h1>
${input.notice ? html`<p class="notice" role="status">${input.notice}</p>` : ''}${input.error ? html`<p class="error" role="alert">${input.error}</p>` : ''}
<p>${stateChip(t.state)} <strong>${t.name}</strong> on ${t.cluster}${t.engine ? html` (${t.engine})` : ''}, priority ${t.priority}, ${t.runs} of ${t.retries + 1} runs used${t.schedule ? html`, a run of schedule <a href="/ui/schedules#${t.schedule}">${t.schedule}</a>` : ''}${t.source ? html`, from source ${t.source}` : ''}.</p>
${t.queue ? html`<p>Queued: number ${t.queue.position + 1} on ${t.cluster}; waiting for ${t.queue.waitingFor}.</p>` : ''}
${t.killRequested ? html`<p role="status">Being killed: asked for by ${t.killRequested.by} ${when(t.killRequested.at)}; the engine is told again every 30 s while the job runs.</p>` : ''}
${
  canChange
    ? html`<div class="actions" aria-label="Actions">
  ${finished ? '' : postButton(session, `/ui/task/${id}/kill`, 'Kill', {danger: true})}
  ${finished ? postButton(session, `/ui/task/${id}/rerun`, 'Rerun') : ''}
  ${finished ? postButton(session, `/ui/task/${id}/delete`, 'Delete', {danger: true}) : ''}
  ${
    t.state === 'QUEUED'
      ? html`<form class="inline" method="post" action="/ui/task/${id}/priority">${csrfField(session)}<label for="prio">Priority</label><input id="prio" type="number" name="priority" min="0" max="1000" value="${t.priority}"> <button type="submit">Change priority</button></form>`
      : ''
  }
</div>`
    : ''
}
<h2>Attempts</h2>
${
  t.attempts?.length
    ? html`<div class="scroll"><table><thead><tr><th scope="col">#</th><th scope="col">Cluster</th><th scope="col">Engine job</th><th scope="col">State</th><th scope="col">Submitted</th><th scope="col">Finished</th><th scope="col">Exit</th><th scope="col">Detail</th></tr></thead>
<tbody>${t.attempts.map((a) => html`<tr><td>${a.n}</td><td>${a.cluster}</td><td>${a.engineJobId ?? ''}</td><td>${stateChip(a.state)}</td><td>${when(a.submittedAt)}</td><td>${when(a.finishedAt)}</td><td>${a.exitCode ?? ''}</td><td>${a.detail ?? ''}</td></tr>`)}</tbody></table></div>`
    : html`<p class="muted">None yet.</p>`
}
<h2>Logs</h2>
${hasJob ? html`<pre data-follow="/ui/task/${id}/logs${finished ? '' : '?follow=1'}" aria-live="polite" aria-label="Driver output">${finished ? 'Loading the output...' : 'Following the output...'}</pre><p class="hint">The engine's own output of the latest attempt (<a href="/ui/task/${id}/logs">plain text</a>).</p>` : html`<p class="muted">No job on an engine yet.</p>`}
<h2>Events</h2>
<ol class="timeline">${input.events.map((e) => html`<li>${when(e.at)}: ${e.from && e.from !== e.to ? html`${e.from} → ` : ''}<strong>${e.to}</strong> <span class="muted">by ${e.actor}</span>${e.detail ? html`<br>${e.detail}` : ''}</li>`)}</ol>
<h2>${t.jobfile ? 'Jobfile' : 'Spec'}</h2>
<pre>${t.jobfile ? t.jobfile.content : JSON.stringify(t.spec, null, 2)}</pre>
${t.files?.length ? html`<p>Files: ${t.files.map((f, i) => html`${i ? ', ' : ''}${f.name} (${f.size} bytes)`)}</p>` : ''}`
}
