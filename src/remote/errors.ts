/** Errors raised by the SSH transport. Each carries the facts a caller needs to render one useful line. */

/** Bad input from the user (a malformed host spec, an invalid name): the CLI exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** The host presented a key that differs from the one recorded for it: possible man-in-the-middle. */
export class HostKeyChangedError extends Error {
  readonly host: string
  readonly expected: string[]
  readonly presented: string
  readonly source: string

  /**
   * @param host label of the host (e.g. 'user@10.0.0.5:22' or '10.0.0.5')
   * @param expected SHA256 fingerprints recorded for this host
   * @param presented SHA256 fingerprint the host presented now
   * @param source where the recorded key lives, 'FILE:LINE', so the user knows what to remove
   */
  constructor(host: string, expected: string[], presented: string, source: string) {
    const was = expected.length > 0 ? expected.join(', ') : '(revoked key)'
    super(
      `host key for ${host} has changed: it presented ${presented} but ${source} records ${was}; ` +
        `if the host was legitimately re-keyed, remove line ${source} and retry`,
    )
    this.name = 'HostKeyChangedError'
    this.host = host
    this.expected = expected
    this.presented = presented
    this.source = source
  }
}

/** The host presented a key cms has no record of, and this connection must not trust it on first use. */
export class UnknownHostKeyError extends Error {
  readonly host: string

  constructor(host: string, presented: string) {
    super(`${host} presented host key ${presented}, which cms has no record of; this provider's host keys are known before the first connection, so it is refused`)
    this.name = 'UnknownHostKeyError'
    this.host = host
  }
}

/** A remote command exited non-zero (or was killed by a signal / timed out: code null). */
export class RemoteCommandError extends Error {
  readonly host: string
  /** The short label of the command (the full command may contain secrets and is never put in the message). */
  readonly command: string
  readonly code: number | null
  readonly stderr: string

  constructor(host: string, label: string, code: number | null, stderr: string, detail?: string) {
    const tail = lastLines(stderr, 5)
    const how = code === null ? detail ?? 'was killed (no exit status)' : `exited ${code}`
    super(`${host}: ${label} ${how}${tail ? `: ${tail}` : ''}`)
    this.name = 'RemoteCommandError'
    this.host = host
    this.command = label
    this.code = code
    this.stderr = stderr
  }
}

/** Could not open or authenticate an SSH connection. */
export class ConnectError extends Error {
  readonly host: string

  constructor(host: string, message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'ConnectError'
    this.host = host
  }
}

function lastLines(text: string, n: number): string {
  const lines = text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0)
  return lines.slice(-n).join(' | ')
}
