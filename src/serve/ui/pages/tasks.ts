import type {HourlyStats} from '../../store/stats.js'
import type {TaskView} from '../../views.js'
import {lines, stackedBars} from '../charts.js'
import {html, query, type Html} from '../html.js'
import {stateChip, when} from '../layout.js'

export interface TasksFilter {
  state?: string
  cluster?: string
  name?: string
  cursor?: string
}

const STATES = ['QUEUED', 'SUBMITTED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'KILLED', 'DEAD']

/** The Tasks page: charts of the last 24 h, filters, and the newest tasks (queue position and wait reason while queued). */
export function tasksPage(input: {tasks: TaskView[]; nextCursor?: string; filter: TasksFilter; clusters: string[]; stats: HourlyStats; notice?: string}): Html {
  const {filter, stats} = input
  return html`<h1>Tasks</h1>
${input.notice ? html`<p class="notice" role="status">${input.notice}</p>` : ''}
<section class="charts" aria-label="The last 24 hours">
  <figure><figcaption>Tasks ended per hour (UTC) <span class="legend"><span><i class="sw sw-ok"></i>succeeded</span><span><i class="sw sw-dead"></i>dead</span><span><i class="sw sw-killed"></i>killed</span></span></figcaption>
  ${stackedBars('Tasks ended per hour by end state', stats.hours, [
    {name: 'succeeded', cls: 'c-ok', values: stats.ended.SUCCEEDED},
    {name: 'dead', cls: 'c-dead', values: stats.ended.DEAD},
    {name: 'killed', cls: 'c-killed', values: stats.ended.KILLED},
  ])}</figure>
  <figure><figcaption>Queue depth <span class="legend"><span><i class="sw sw-depth"></i>tasks queued at the end of each hour</span></span></figcaption>
  ${lines('Queue depth per hour', stats.hours, [{name: 'queued', cls: 'c-depth', values: stats.depth}])}</figure>
  <figure><figcaption>Wait in the queue <span class="legend"><span><i class="sw sw-wait"></i>mean seconds from queued to handed over</span></span></figcaption>
  ${lines('Mean wait per hour in seconds', stats.hours, [{name: 'wait (s)', cls: 'c-wait', values: stats.waitSeconds}])}</figure>
</section>
<form method="get" action="/ui/tasks" class="actions" role="search" aria-label="Filter tasks">
  <div><label for="f-state">State</label><select id="f-state" name="state"><option value="">any</option>${STATES.map((s) => html`<option${s === filter.state ? html` selected` : ''}>${s}</option>`)}</select></div>
  <div><label for="f-cluster">Cluster</label><select id="f-cluster" name="cluster"><option value="">any</option>${input.clusters.map((c) => html`<option${c === filter.cluster ? html` selected` : ''}>${c}</option>`)}</select></div>
  <div><label for="f-name">Name contains</label><input id="f-name" type="text" name="name" value="${filter.name ?? ''}"></div>
  <div><button type="submit">Filter</button></div>
</form>
<div class="scroll"><table>
<caption class="muted">Newest first</caption>
<thead><tr><th scope="col">Task</th><th scope="col">Name</th><th scope="col">State</th><th scope="col">Cluster</th><th scope="col" class="wide">Priority</th><th scope="col" class="wide">Created</th><th scope="col">Waiting for</th></tr></thead>
<tbody>${input.tasks.map(
    (t) => html`<tr><td><a href="/ui/task/${encodeURIComponent(t.id)}">${t.id}</a></td><td>${t.name}</td><td>${stateChip(t.state)}</td><td>${t.cluster}</td><td class="wide">${t.priority}</td><td class="wide">${when(t.createdAt)}</td><td>${t.queue ? html`#${t.queue.position + 1}: ${t.queue.waitingFor}` : ''}</td></tr>`,
  )}</tbody></table></div>
${input.tasks.length === 0 ? html`<p class="muted">No tasks match.</p>` : ''}
${input.nextCursor ? html`<p><a href="/ui/tasks${query({...filter, cursor: input.nextCursor})}">Older tasks</a></p>` : ''}`
}
