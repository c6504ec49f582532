import {UsageError} from '../remote/errors.js'

export const CLUSTER_NAME_RE = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/

/** Cluster names end up in container names, labels, remote paths and Spark idents: keep them DNS-label safe. */
export function validateClusterName(name: string | undefined): string {
  if (name === undefined || name === '') throw new UsageError('missing cluster name: pass -n NAME')
  if (!CLUSTER_NAME_RE.test(name) || name.includes('--')) {
    throw new UsageError(
      `invalid cluster name ${JSON.stringify(name)}: use 2-32 characters, lowercase letters, digits and single hyphens, starting with a letter`,
    )
  }
  return name
}

export function validateHostCount(n: number, what = '--hosts'): number {
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`invalid ${what} ${n}: expected a whole number from 1 to 64`)
  return n
}
