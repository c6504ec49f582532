import {UsageError} from '../remote/errors.js'
import type {EngineNeeds} from './provider.js'

/**
 * The user cms logs in as on hosts a cloud makes: root when the engine's daemons need it (cms uses no sudo), whether
 * or not --ssh-user was given; another login for such an engine is refused before anything is made.
 */
export function loginUserFor(engine: EngineNeeds | undefined, sshUser: string | undefined): string | undefined {
  if (!engine?.rootLogin) return sshUser
  if (sshUser === undefined || sshUser === 'root') return 'root'
  throw new UsageError(`--ssh-user ${sshUser}: -e ${engine.engine} runs its daemons as root and cms uses no sudo, so it logs in as root: leave --ssh-user out (or give root)`)
}
