import type {AutoscaleStatus} from '../../autoscale/autoscaler.js'
import {usageBar} from '../charts.js'
import {html, type Html} from '../html.js'
import {stateChip, when} from '../layout.js'

export interface ClusterRow {
  name: string
  provider: string
  engine: string
  health: string
  down?: string
  capacity?: {cores: number; memoryMb: number; usedCores: number; usedMemoryMb: number}
  checkedAt: string
  hosts?: number
  queued: number
  submitted: number
  running: number
  autoscale?: AutoscaleStatus
}

/** The Clusters page: each cluster's engine, health, used and free capacity, and the service's tasks on it. */
export function clustersPage(input: {clusters: ClusterRow[]}): Html {
  return html`<h1>Clusters</h1>
<div class="scroll"><table><thead><tr><th scope="col">Cluster</th><th scope="col">Engine</th><th scope="col" class="wide">Provider</th><th scope="col">Health</th><th scope="col">Hosts</th><th scope="col">Cores</th><th scope="col">Memory</th><th scope="col">Running</th><th scope="col">Queued</th><th scope="col" class="wide">Asked</th></tr></thead>
<tbody>${input.clusters.map((c) => {
    const cap = c.capacity
    return html`<tr><td><a href="/ui/tasks?cluster=${encodeURIComponent(c.name)}">${c.name}</a></td><td>${c.engine}</td><td class="wide">${c.provider}</td><td>${stateChip(c.health.toUpperCase())}${c.down ? html`<br><span class="error">${c.down}</span>` : ''}</td><td>${c.hosts ?? ''}${c.autoscale ? html`<br><span class="muted">${c.autoscale.state}</span>` : ''}</td>
<td>${cap ? html`${usageBar(`${c.name} cores`, cap.usedCores, cap.cores, 'cores')} ${round(cap.usedCores)} / ${round(cap.cores)}` : html`<span class="muted">unknown</span>`}</td>
<td>${cap ? html`${usageBar(`${c.name} memory`, cap.usedMemoryMb / 1024, cap.memoryMb / 1024, 'GiB')} ${round(cap.usedMemoryMb / 1024)} / ${round(cap.memoryMb / 1024)} GiB` : html`<span class="muted">unknown</span>`}</td>
<td>${c.running + c.submitted}</td><td>${c.queued}</td><td class="wide">${when(c.checkedAt)}</td></tr>`
  })}</tbody></table></div>
${input.clusters.filter((c) => c.autoscale).map((c) => autoscaleSection(c.name, c.autoscale!))}
${input.clusters.length === 0 ? html`<p class="muted">No cluster is known to the providers (cms cluster create makes one).</p>` : ''}
<p class="hint">Used capacity is what each engine reports (the Spark master's used cores and memory; on Nomad and Kubernetes, the service's own running tasks).</p>`
}

/** A cluster that follows the queue: its policy, what the autoscaler does now, its latest actions. */
function autoscaleSection(name: string, a: AutoscaleStatus): Html {
  return html`<section aria-labelledby="scale-${name}"><h2 id="scale-${name}">Autoscaling ${name}</h2>
<p><code>${a.policy}</code>: <strong>${a.state}</strong> <span class="muted">(${a.reason})</span></p>
${a.events.length > 0 ? html`<ol class="timeline">${a.events.map((e) => html`<li>${when(e.at)}: <strong>${e.kind}</strong><br>${e.detail}</li>`)}</ol>` : html`<p class="muted">No scaling action yet.</p>`}</section>`
}

const round = (v: number) => Math.round(v * 10) / 10
