import type {ProviderName} from '../providers/provider.js'
import {HOST_MAKERS_TEXT, providerEntry} from '../providers/registry.js'
import {UsageError} from '../remote/errors.js'

/** A provider that makes hosts takes `--hosts N`; the others take the hosts the user names (user@host[:port]). */
export function checkHostArguments(provider: ProviderName, req: {hostCount?: number; hostSpecs: string[]}, verb: 'create' | 'add'): void {
  if (providerEntry(provider).makesHosts) {
    if (req.hostSpecs.length > 0) throw new UsageError(`the ${provider} provider makes its own hosts: use --hosts N instead of host arguments`)
    return
  }
  if (req.hostCount !== undefined) throw new UsageError(`--hosts N is for the ${HOST_MAKERS_TEXT} providers; name ${provider} hosts as user@host[:port] arguments`)
  if (req.hostSpecs.length === 0) {
    throw new UsageError(verb === 'create' ? `the ${provider} provider needs hosts: pass user@host[:port] arguments (the first is the head)` : 'name the hosts to add as user@host[:port] arguments')
  }
}
