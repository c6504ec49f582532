import {HOST_ROLES, type Host, type HostRole} from '../providers/provider.js'
import {UsageError} from '../remote/errors.js'
import {NotFoundError} from './not-found.js'

/** The host the user named: its name as `cms cluster info` shows it, its address, user@address or user@address:port. */
export function findHost(hosts: Host[], wanted: string): Host {
  const found = hosts.find(
    (h) =>
      h.id === wanted ||
      h.target.host === wanted ||
      h.privateAddress === wanted ||
      `${h.target.user}@${h.target.host}` === wanted ||
      `${h.target.user}@${h.target.host}:${h.target.port}` === wanted,
  )
  if (!found) throw new NotFoundError(`host ${JSON.stringify(wanted)} is not in the cluster (hosts: ${hosts.map((h) => h.id).join(', ')})`)
  return found
}

const isRole = (word: string): word is HostRole => (HOST_ROLES as readonly string[]).includes(word)

/**
 * The hosts `--hosts` selects: each word (or comma-separated list of them) is a role (head, worker) or one host as
 * findHost takes it; none given means every host. In the cluster's order, each once.
 */
export function selectHosts(hosts: Host[], selectors: string[]): Host[] {
  const words = selectors.flatMap((s) => s.split(',')).map((w) => w.trim())
  if (words.some((w) => w === '')) throw new UsageError(`--hosts: an empty host name (expected ${HOST_ROLES.join(', ')} or a host from 'cms cluster info')`)
  if (words.length === 0) return hosts
  const chosen = new Set<Host>()
  for (const word of words) {
    if (isRole(word)) {
      const ofRole = hosts.filter((h) => h.role === word)
      if (ofRole.length === 0) throw new NotFoundError(`the cluster has no ${word} hosts`)
      for (const h of ofRole) chosen.add(h)
    } else chosen.add(findHost(hosts, word))
  }
  return hosts.filter((h) => chosen.has(h))
}
