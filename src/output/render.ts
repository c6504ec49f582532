import {formatDuration} from '../cluster/max-age.js'
import type {ClusterInfo, ClusterList, FileCopyReport, HdfsCopyReport, HostCommandResult, HostReport, NotebookReport, ReapReport, RunReport, TunnelReport} from './results.js'
import {duration, gb, mb, table} from './table.js'

/** '3h12m', '3h12m (max 2h, EXPIRED)': how old a cluster is against its --max-age. */
export function renderAge(c: {ageSeconds?: number; maxAgeSeconds?: number; expired?: boolean}): string | undefined {
  if (c.ageSeconds === undefined) return undefined
  const age = formatDuration(c.ageSeconds)
  if (c.maxAgeSeconds === undefined) return age
  return `${age} (max ${formatDuration(c.maxAgeSeconds)}${c.expired ? ', EXPIRED' : ''})`
}

export function renderClusterInfo(info: ClusterInfo): string {
  const lines = [
    `Cluster:   ${info.name}`,
    `Provider:  ${info.provider}`,
    `Engine:    ${info.engine}`,
    `Health:    ${info.health}`,
  ]
  if (info.ageSeconds !== undefined) lines.push(`Age:       ${renderAge(info)}`)
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
  } else if (info.kubernetes) {
    const k = info.kubernetes
    lines.push(
      `API:       ${k.apiUrl} (private; client certificates only; 'cms cluster tunnel' or 'cms cluster kubeconfig' reach it)`,
      `Ready:     ${k.ready ? 'yes (/readyz)' : 'NO (/readyz)'}${k.version ? `, Kubernetes ${k.version}` : ''}`,
      `Nodes:     ${k.readyNodes} Ready, ${k.cpuCores} cores, ${mb(k.memoryMb)} memory`,
    )
  } else if (info.yarn) {
    const y = info.yarn
    lines.push(
      `YARN:      ${y.resourceManagerUrl} (${y.state}; private, 'cms cluster tunnel' reaches it), ${y.runningNodeManagers} NodeManagers running`,
      `Resources: ${y.vcores} vcores (${y.vcoresUsed} used), ${mb(y.memoryMb)} memory (${mb(y.memoryUsedMb)} used)`,
      `Apps:      ${y.runningApps} running, ${y.pendingApps} pending`,
    )
  } else if (info.masterError) {
    lines.push(`${info.engine === 'spark' ? 'Master:   ' : 'Control:  '} unreachable: ${info.masterError}`)
  }
  if (info.hdfs) {
    const h = info.hdfs
    lines.push(`HDFS:      ${h.namenodeUrl}${h.safeMode ? ` (SAFE MODE: ${h.safeMode})` : ''}, ${h.liveDataNodes} DataNodes live${h.deadDataNodes ? `, ${h.deadDataNodes} dead or decommissioned` : ''}, ${gb(h.usedBytes)} of ${gb(h.capacityBytes)} used`)
  }
  if ((info.nomad || info.kubernetes || info.yarn) && info.masterError) lines.push(`Problem:   ${info.masterError}`)
  if (info.engine === 'nomad' || info.engine === 'kubernetes') {
    const k8s = info.engine === 'kubernetes'
    lines.push(
      '',
      table(
        ['HOST', 'ROLE', 'ADDRESS', 'PROVIDER STATE', 'NODE', k8s ? 'SCHEDULING' : 'ELIGIBILITY', k8s ? 'RUNTIME' : 'DRIVERS', 'CORES', 'MEMORY'],
        info.hosts.map((h) => [
          h.id,
          h.node?.server ? `${h.role}, ${k8s ? 'control plane' : 'server'}` : h.role,
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
  if (info.engine === 'hadoop') {
    lines.push(
      '',
      table(
        ['HOST', 'ROLE', 'ADDRESS', 'PROVIDER STATE', 'DATANODE', 'HDFS USED', 'NODEMANAGER', 'VCORES', 'MEMORY', 'CONTAINERS'],
        info.hosts.map((h) => [
          h.id,
          h.role,
          h.privateAddress ?? h.address,
          h.state,
          h.datanode ? (h.datanode.adminState === 'In Service' ? h.datanode.state : `${h.datanode.state}, ${h.datanode.adminState}`) : 'absent',
          h.datanode ? gb(h.datanode.usedBytes) : undefined,
          h.nodemanager?.state ?? 'absent',
          h.nodemanager ? `${h.nodemanager.vcoresUsed}/${h.nodemanager.vcores}` : undefined,
          h.nodemanager ? `${mb(h.nodemanager.memoryUsedMb)}/${mb(h.nodemanager.memoryMb)}` : undefined,
          h.nodemanager?.containers,
        ]),
      ),
    )
    return lines.join('\n')
  }
  const cloud = info.hosts.some((h) => h.instanceType !== undefined)
  lines.push(
    '',
    table(
      ['HOST', 'ROLE', 'ADDRESS', 'PROVIDER STATE', 'WORKER', 'CORES', 'MEMORY', ...(cloud ? ['TYPE', 'LIFECYCLE', 'AGE'] : [])],
      info.hosts.map((h) => [
        h.id,
        h.role,
        h.privateAddress ?? h.address,
        h.state,
        h.worker?.state ?? 'absent',
        h.worker ? `${h.worker.coresUsed}/${h.worker.cores}` : undefined,
        h.worker ? `${mb(h.worker.memoryUsedMb)}/${mb(h.worker.memoryMb)}` : undefined,
        ...(cloud ? [h.instanceType, h.lifecycle, h.ageSeconds === undefined ? undefined : formatDuration(h.ageSeconds)] : []),
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
  const aged = list.clusters.some((c) => c.ageSeconds !== undefined)
  return table(
    ['NAME', 'PROVIDER', 'ENGINE', 'HOSTS', 'HEAD', 'MASTER', 'WORKERS', 'CORES', 'MEMORY', 'APPS', ...(aged ? ['AGE'] : [])],
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
      ...(aged ? [renderAge(c)] : []),
    ]),
  )
}

export function renderReap(report: ReapReport): string {
  if (report.expired.length === 0) return 'No cluster is past its max age.'
  const killed = new Set(report.killed.filter((k) => k.hosts.every((h) => h.ok)).map((k) => k.name))
  const failed = new Map(report.failed.map((f) => [f.name, f.error]))
  return table(
    ['NAME', 'PROVIDER', 'AGE', 'RESULT'],
    report.expired.map((e) => [e.name, e.provider, renderAge({...e, expired: true}), killed.has(e.name) ? 'killed' : failed.has(e.name) ? `FAILED: ${failed.get(e.name)}` : 'kept']),
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

/** `cms notebook`: the login link as Jupyter shows it (local end of the tunnel), or what --stop did. */
export function renderNotebook(r: NotebookReport): string {
  if (!r.url) return `JupyterLab on ${r.cluster}: ${r.state} (the notebooks stay: ${r.notebooks})`
  return [
    `JupyterLab on ${r.cluster} (${r.state}; ${r.remote}, notebooks: ${r.notebooks}). Open this URL:`,
    `    ${r.url}`,
  ].join('\n')
}

/** `cms cluster put/get`: one line per file, then the total. */
export function renderCopyReport(r: HdfsCopyReport): string {
  const failed = r.files.filter((f) => !f.ok)
  const lines = r.files.map((f) => (f.ok ? `${f.from} -> ${f.to} (${gb(f.bytes)}, ${f.seconds.toFixed(1)} s)` : `FAILED ${f.from} -> ${f.to}: ${f.error}`))
  const rate = r.seconds > 0 ? ` (${gb(Math.round(r.bytes / r.seconds))}/s)` : ''
  lines.push(`${r.direction === 'put' ? 'Put' : 'Got'} ${r.files.length - failed.length} of ${r.files.length} files, ${gb(r.bytes)} in ${r.seconds.toFixed(1)} s${rate}${failed.length ? `; ${failed.length} failed` : ''}.`)
  return lines.join('\n')
}

/** `cms cluster run`: one host's output under its name (stdout), its stderr with the same heading (stderr). */
export function renderHostOutput(r: HostCommandResult): {stdout: string; stderr: string} {
  const status = r.error ? `FAILED: ${r.error}` : `exit ${r.exitCode}`
  const heading = `== ${r.host} (${r.role}): ${status}`
  const block = (text: string) => (text === '' ? '' : text.endsWith('\n') ? text : `${text}\n`)
  return {stdout: `${heading}\n${block(r.stdout)}`, stderr: r.stderr === '' ? '' : `== ${r.host} (${r.role}) stderr:\n${block(r.stderr)}`}
}

/** `cms cluster run`: which hosts failed, in one line. */
export function renderRunSummary(report: RunReport): string {
  const failed = report.hosts.filter((h) => h.exitCode !== 0)
  return `${failed.length} of ${report.hosts.length} hosts failed: ${failed.map((h) => `${h.host} (${h.error ?? `exit ${h.exitCode}`})`).join(', ')}`
}

/** `cms cluster copy`: one row per host, then the file and what was uploaded. */
export function renderFileCopy(r: FileCopyReport): string {
  const ok = r.hosts.filter((h) => h.ok).length
  return `${renderHostReports(r.hosts)}\nPut ${r.local} (${r.bytes} bytes, sha256 ${r.sha256.slice(0, 16)}...) on ${ok} of ${r.hosts.length} hosts; ${r.uploadedBytes} bytes uploaded, ${r.seconds.toFixed(1)} s.`
}
