import {RemoteCommandError, UsageError} from '../remote/errors.js'

/**
 * Whether a failure says the cluster could not be reached (no connection, a connection that broke, a command that
 * was cut off), as opposed to a command that ran there and failed, or bad input. Only the first kind marks a
 * cluster down and closes its connections; the others leave the connections to every other call in flight.
 */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof UsageError) return false
  if (error instanceof RemoteCommandError) return error.code === null
  return true
}
