import {UsageError} from '../remote/errors.js'

/** An unknown cluster or host named by the user: bad input, exit 2, nothing changed. */
export class NotFoundError extends UsageError {}

/** The refusal of every command that manages hosts (kill, remove, add, create, ...) on an attached cluster. */
export function notMadeByCms(name: string): UsageError {
  return new UsageError(`cms did not make this cluster: ${name} was attached ('cms cluster detach -n ${name}' forgets it)`)
}
