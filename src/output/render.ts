import type {ClusterInfo, ClusterList, HostReport, TunnelReport} from './results.js'
import {duration, mb, table} from './table.js'

export function renderClusterInfo(info: ClusterInfo): string {
  const lines = [
    `Cluster:   ${info.name}`,
    `Provider:  ${info.provider}`,
    `Engine:    ${info.engine}`,
    `Health:    ${info.health}`,
  ]
  if (info.master) {
    const m = info.master
    lines.push(
      `Master:    ${m.url} (${m.status})`,
      `REST:      ${m.restUrl} (private; reached through SSH)`,
      `Web UI:    ${m.webUiUrl}`,
      `Workers:   ${m.aliveWorkers} alive, ${m.cores} cores (${m.coresUsed} used), ${mb(m.memoryMb)} memory (${mb(m.memoryUsedMb)} used)`,
      `Apps:      ${m.activeApps.length} running, ${m.completedApps} completed`,
    )
  } else if (info.nomad) {
    const n = info.nomad
    lines.push(
      `API:       ${n.apiUrl} (private; mutual TLS and an ACL token; 'cms cluster tunnel' reaches it)`,
      `Leader:    ${n.leader || 'none'}`,
      `Servers:   ${n.servers.join(', ') || 'none'}`,
      `Nodes:     ${n.readyNodes} ready, ${n.cpuCores} cores, ${mb(n.memoryMb)} memory`,
    )
  } else if (info.masterError) {
    lines.push(`${info.engine === 'spark' ? 'Master:   ' : 'Control:  '} unreachable: ${info.masterError}`)
  }
  if (info.nomad && info.masterError) lines.push(`Problem:   ${info.masterError}`)
  if (info.engine === 'nomad') {
    lines.push(
      '',
      table(
        ['HOST', 'ROLE', 'ADDRESS', 'PROVIDER STATE', 'NODE', 'ELIGIBILITY', 'DRIVERS', 'CORES', 'MEMORY'],
        info.hosts.map((h) => [
          h.id,
          h.node?.server ? `${h.role}, server` : h.role,
          h.privateAddress ?? h.address,
          h.state,
          h.node?.status ?? 'absent',
          h.node ? (h.node.draining ? 'draining' : h.node.eligibility) : undefined,
          h.node?.drivers.join(',') || undefined,
          h.node?.cores,
          h.node ? mb(h.node.memoryMb) : undefined,
        ]),
      ),
    )
    return lines.join('\n')
  }
  lines.push(
    '',
    table(
      ['HOST', 'ROLE', 'ADDRESS', 'PROVIDER STATE', 'WORKER', 'CORES', 'MEMORY'],
      info.hosts.map((h) => [
        h.id,
        h.role,
        h.privateAddress ?? h.address,
        h.state,
        h.worker?.state ?? 'absent',
        h.worker ? `${h.worker.coresUsed}/${h.worker.cores}` : undefined,
        h.worker ? `${mb(h.worker.memoryUsedMb)}/${mb(h.worker.memoryMb)}` : undefined,
      ]),
    ),
  )
  if (info.master && info.master.activeApps.length > 0) {
    lines.push('', table(['APP', 'NAME', 'STATE', 'CORES', 'DURATION'], info.master.activeApps.map((a) => [a.id, a.name, a.state, a.cores, duration(a.durationMs)])))
  }
  return lines.join('\n')
}

export function renderClusterList(list: ClusterList): string {
  if (list.clusters.length === 0) return 'No clusters.'
  return table(
    ['NAME', 'PROVIDER', 'ENGINE', 'HOSTS', 'HEAD', 'MASTER', 'WORKERS', 'CORES', 'MEMORY', 'APPS'],
    list.clusters.map((c) => [
      c.name,
      c.provider,
      c.engine,
      c.runningHosts === undefined ? c.hosts : `${c.runningHosts}/${c.hosts}`,
      c.head,
      c.masterStatus ?? (c.error ? 'UNREACHABLE' : undefined),
      c.aliveWorkers,
      c.cores,
      mb(c.memoryMb),
      c.activeApps,
    ]),
  )
}

export function renderHostReports(reports: HostReport[]): string {
  return table(
    ['HOST', 'RESULT', 'TIME', 'DETAIL'],
    reports.map((r) => [r.host, r.ok ? 'ok' : 'FAILED', `${r.seconds.toFixed(1)}s`, r.ok ? r.detail : r.error]),
  )
}

export function renderTunnel(report: TunnelReport): string {
  const lines = [table(['ENDPOINT', 'LOCAL URL', 'REMOTE', 'WHAT'], report.endpoints.map((e) => [e.name, e.url, e.remote, e.description]))]
  const env = Object.entries(report.environment)
  if (env.length > 0) lines.push('', ...env.map(([k, v]) => `export ${k}=${v}`))
  if (report.envFile) lines.push('', `Secrets (tokens) are in ${report.envFile}: . ${report.envFile}`)
  return lines.join('\n')
}
