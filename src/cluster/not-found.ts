import {UsageError} from '../remote/errors.js'

/** An unknown cluster or host named by the user: bad input, exit 2, nothing changed. */
export class NotFoundError extends UsageError {}
