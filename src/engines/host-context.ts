import type {Host} from '../providers/provider.js'
import {hostFacts, type HostFacts} from '../remote/host-facts.js'
import type {SshSession} from '../remote/session.js'

/** One host as an engine works on it: its SSH session, what it reported about itself, its private address. */
export interface HostContext {
  host: Host
  session: SshSession
  facts: HostFacts
  /** The address the engine binds to and other hosts use. */
  address: string
}

export async function hostContext(session: SshSession, host: Host): Promise<HostContext> {
  const facts = await hostFacts(session)
  const address = host.privateAddress || facts.connectedAddress
  if (!address) throw new Error(`cannot tell the private address of ${host.id}`)
  return {host, session, facts, address}
}
