import type {ClusterStatus} from '../clusters.js'
import {TASK_STATES} from '../queue/states.js'

const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')

/** The Prometheus text exposition of the queue, the clusters it uses and the requests served. Pure. */
export function prometheusText(input: {
  counts: Array<{state: string; n: number}>
  queue: {depth: Array<{cluster: string; priority: number; queued: number; oldestWaitSeconds: number}>}
  requestCounts: ReadonlyMap<string, number>
  clusters: ClusterStatus[]
}): string {
  const out: string[] = []
  const metric = (name: string, type: string, help: string, samples: Array<[Record<string, string>, number]>) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',')
      out.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 0}`)
    }
  }
  metric('cms_serve_tasks', 'gauge', 'Tasks by state.', TASK_STATES.map((s) => [{state: s}, Number(input.counts.find((c) => c.state === s)?.n ?? 0)]))
  metric('cms_serve_queue_depth', 'gauge', 'Queued tasks by first-choice cluster and priority.', input.queue.depth.map((d) => [{cluster: d.cluster, priority: String(d.priority)}, d.queued]))
  metric('cms_serve_queue_oldest_wait_seconds', 'gauge', 'Age of the oldest queued task by cluster and priority.', input.queue.depth.map((d) => [{cluster: d.cluster, priority: String(d.priority)}, d.oldestWaitSeconds]))
  const clusters = input.clusters
  metric('cms_serve_cluster_up', 'gauge', 'Whether the cluster answered its last check.', clusters.map((s) => [{cluster: s.name, engine: s.engine}, s.down ? 0 : 1]))
  metric('cms_serve_cluster_free_cores', 'gauge', 'Cores free on the cluster at its last check, as its engine reports them.', clusters.filter((s) => s.capacity).map((s) => [{cluster: s.name}, s.capacity!.cores - s.capacity!.usedCores]))
  metric('cms_serve_http_requests_total', 'counter', 'Requests served, by method, route and status.', [...input.requestCounts].map(([k, n]) => {
    const [method, route, status] = k.split(' ')
    return [{method: method!, route: route!, status: status!}, n]
  }))
  return `${out.join('\n')}\n`
}
