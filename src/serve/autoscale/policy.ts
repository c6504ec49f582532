import {formatDuration, parseDuration} from '../../cluster/max-age.js'
import {validateClusterName} from '../../cluster/names.js'
import {UsageError} from '../../remote/errors.js'

/** How one cluster follows the queue (`--autoscale NAME:min=N,max=M[,idle=15m][,wait=1m]`). Host counts include the head. */
export interface AutoscalePolicy {
  cluster: string
  min: number
  max: number
  /** A worker host idle this long is removed (never below min). */
  idleMs: number
  /** Tasks waiting this long for the cluster's room grow it (never above max). */
  waitMs: number
}

const MAX_HOSTS = 100
const KEYS = ['min', 'max', 'idle', 'wait']

/** Parses one --autoscale value; bad input is one line naming the flag and the part. */
export function parseAutoscale(value: string): AutoscalePolicy {
  const flag = `--autoscale ${value}`
  const m = /^([^:]+):(.*)$/.exec(value.trim())
  if (!m) throw new UsageError(`${flag}: expected NAME:min=N,max=M[,idle=15m][,wait=1m]`)
  let cluster: string
  try {
    cluster = validateClusterName(m[1]!)
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`)
  }
  const parts = new Map<string, string>()
  for (const part of m[2]!.split(',')) {
    const kv = /^([a-z]+)=(.+)$/.exec(part.trim())
    if (!kv) throw new UsageError(`${flag}: ${JSON.stringify(part)} is not KEY=VALUE (keys: ${KEYS.join(', ')})`)
    if (!KEYS.includes(kv[1]!)) throw new UsageError(`${flag}: unknown key ${kv[1]} (keys: ${KEYS.join(', ')})`)
    if (parts.has(kv[1]!)) throw new UsageError(`${flag}: ${kv[1]} is given twice`)
    parts.set(kv[1]!, kv[2]!)
  }
  const count = (key: 'min' | 'max') => {
    const text = parts.get(key)
    if (text === undefined) throw new UsageError(`${flag}: ${key}= is required (hosts, the head included)`)
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_HOSTS) throw new UsageError(`${flag}: ${key}=${text}: expected a host count from 1 to ${MAX_HOSTS}`)
    return Number(text)
  }
  const min = count('min')
  const max = count('max')
  if (max < min) throw new UsageError(`${flag}: max=${max} is below min=${min}`)
  const ms = (key: string, fallback: string) => parseDuration(parts.get(key) ?? fallback, `${flag}: ${key}`) * 1000
  return {cluster, min, max, idleMs: ms('idle', '15m'), waitMs: ms('wait', '1m')}
}

/** Several --autoscale values: one per cluster. */
export function parseAutoscaleFlags(values: readonly string[]): AutoscalePolicy[] {
  const policies = values.map(parseAutoscale)
  const seen = new Set<string>()
  for (const p of policies) {
    if (seen.has(p.cluster)) throw new UsageError(`--autoscale: cluster ${p.cluster} is given twice`)
    seen.add(p.cluster)
  }
  return policies
}

/** The policy as a user would write it back, for the API and the Clusters page. */
export function describePolicy(p: AutoscalePolicy): string {
  return `min=${p.min},max=${p.max},idle=${formatDuration(p.idleMs / 1000)},wait=${formatDuration(p.waitMs / 1000)}`
}
