import type {KillReport, ReapReport} from '../output/results.js'
import type {RunOptions} from './context.js'
import {killCluster} from './kill.js'
import {listClusterSummaries} from './list.js'

/**
 * Kills every cluster past its --max-age (cron-friendly: the way forgotten clusters stop costing money).
 * Only the providers are asked (no SSH); `confirm` gets the expired clusters and may say no.
 */
export async function reapClusters(
  run: RunOptions,
  opts: {dryRun?: boolean; confirm?: (names: string[]) => Promise<boolean>} = {},
): Promise<ReapReport> {
  const started = Date.now()
  const summaries = await listClusterSummaries(run)
  const expired = summaries
    .filter((s) => s.expired)
    .map((s) => ({name: s.name, provider: s.provider, ageSeconds: s.ageSeconds ?? 0, maxAgeSeconds: s.maxAgeSeconds ?? 0}))
  const report: ReapReport = {expired, killed: [], failed: [], seconds: 0}
  if (expired.length === 0 || opts.dryRun || (opts.confirm && !(await opts.confirm(expired.map((e) => e.name))))) {
    return {...report, seconds: (Date.now() - started) / 1000}
  }
  for (const cluster of expired) {
    run.log(`Reaping ${cluster.name}: past its max age`)
    try {
      const killed: KillReport = await killCluster({name: cluster.name}, run)
      report.killed.push(killed)
      const failed = killed.hosts.filter((h) => !h.ok)
      if (failed.length > 0) report.failed.push({name: cluster.name, error: `${failed.length} hosts could not be cleaned`})
    } catch (error) {
      report.failed.push({name: cluster.name, error: (error as Error).message.split('\n')[0]})
    }
  }
  return {...report, seconds: (Date.now() - started) / 1000}
}
