import type {ScheduleView} from '../../schedules/schedules.js'
import {html, type Html} from '../html.js'
import {csrfField, postButton, when} from '../layout.js'
import {allows, type Session} from '../session.js'

/** The Schedules page: every schedule with its next and last run; run now, delete, and a form for a new one. */
export function schedulesPage(input: {schedules: ScheduleView[]; session: Session; notice?: string; error?: string; values?: Record<string, string>}): Html {
  const canChange = allows(input.session, 'submit')
  const v = input.values ?? {}
  return html`<h1>Schedules</h1>
${input.notice ? html`<p class="notice" role="status">${input.notice}</p>` : ''}${input.error ? html`<p class="error" role="alert">${input.error}</p>` : ''}
<div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">Cron</th><th scope="col">Time zone</th><th scope="col" class="wide">Concurrency</th><th scope="col">Next run</th><th scope="col">Last run</th><th scope="col" class="wide">Note</th>${canChange ? html`<th scope="col">Actions</th>` : ''}</tr></thead>
<tbody>${input.schedules.map(
    (s) => html`<tr id="${s.name}"><td>${s.name}</td><td><code>${s.cron}</code></td><td>${s.timeZone}</td><td class="wide">${s.concurrency}</td><td>${s.suspend ? 'suspended' : when(s.nextRunAt)}</td>
<td>${s.lastTaskId ? html`<a href="/ui/task/${encodeURIComponent(s.lastTaskId)}">${s.lastTaskId}</a> ${when(s.lastRunAt)}` : html`<span class="muted">never</span>`}</td><td class="wide">${s.lastNote ?? ''}</td>
${canChange ? html`<td>${postButton(input.session, `/ui/schedules/${encodeURIComponent(s.name)}/run`, 'Run now')} ${postButton(input.session, `/ui/schedules/${encodeURIComponent(s.name)}/delete`, 'Delete', {danger: true})}</td>` : ''}</tr>`,
  )}</tbody></table></div>
${input.schedules.length === 0 ? html`<p class="muted">No schedules yet.</p>` : ''}
${
  canChange
    ? html`<h2>New schedule</h2>
<form method="post" action="/ui/schedules" enctype="multipart/form-data">${csrfField(input.session)}
<div class="grid">
<div><label for="s-name">Name</label><input id="s-name" name="name" type="text" required value="${v.name ?? ''}"></div>
<div><label for="s-cron">Cron <span class="hint">min hour day month weekday</span></label><input id="s-cron" name="cron" type="text" required value="${v.cron ?? ''}" placeholder="0 2 * * *"></div>
<div><label for="s-tz">Time zone</label><input id="s-tz" name="timeZone" type="text" value="${v.timeZone ?? 'UTC'}"></div>
<div><label for="s-conc">Concurrency</label><select id="s-conc" name="concurrency">${['allow', 'forbid', 'replace'].map((c) => html`<option${c === (v.concurrency ?? 'allow') ? html` selected` : ''}>${c}</option>`)}</select></div>
</div>
<label for="s-task">Task <span class="hint">as POST /task takes it (JSON); its app and files are URLs or files uploaded below, by file name</span></label>
<textarea id="s-task" name="task" required placeholder='{"cluster": "etl", "spec": {"app": "job.py"}}'>${v.task ?? ''}</textarea>
<label for="s-files">Files <span class="hint">kept for every run</span></label><input id="s-files" name="files" type="file" multiple>
<p><button type="submit">Add schedule</button></p></form>`
    : ''
}
`
}
