import {isIP} from 'node:net'

/**
 * Names Kubernetes accepts. A node's name is a DNS-1123 subdomain (lowercase); cms also puts it in certificates
 * (CN=system:node:NAME, at most 64 characters) and in file names, so it keeps it to 52 characters of
 * [a-z0-9.-].
 */

const NODE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/
export const MAX_NODE_NAME = 64 - 'system:node:'.length

export function checkNodeName(name: string): string {
  if (name.length === 0 || name.length > MAX_NODE_NAME || !NODE_NAME.test(name)) {
    throw new Error(`not a Kubernetes node name (lowercase letters, digits, '-' and '.', at most ${MAX_NODE_NAME}): ${JSON.stringify(name)}`)
  }
  return name
}

/** A host's node name: its id (a container name, an address) made into a valid one. */
export function nodeNameFor(hostId: string): string {
  const safe = hostId
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/-*\.-*/g, '.')
    .slice(0, MAX_NODE_NAME)
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
  return safe || 'node'
}

export function checkAddress(what: string, address: string): string {
  if (!isIP(address)) throw new Error(`${what} must be an IP address, not ${JSON.stringify(address)}`)
  if (address === '0.0.0.0' || address === '::') throw new Error(`${what} must be a host's own address, not the wildcard ${address}`)
  return address
}

export function checkAbsolutePath(what: string, path: string): string {
  if (!path.startsWith('/') || path.includes('\n') || path.includes('\0')) throw new Error(`${what} must be an absolute path: ${JSON.stringify(path)}`)
  return path
}
