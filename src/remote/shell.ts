import {UsageError} from './errors.js'

/**
 * POSIX single-quote quoting: the result is one shell word that expands to exactly `s`,
 * whatever it contains (empty, newlines, quotes, $, backticks, NUL excepted since argv cannot hold it).
 */
export function shq(s: string): string {
  if (s.includes('\0')) throw new UsageError('a shell argument cannot contain a NUL byte')
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** Quote each argument and join with spaces. */
export function shJoin(argv: string[]): string {
  return argv.map(shq).join(' ')
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** `A='x' B='y' ` (trailing space) for prefixing a command; rejects invalid variable names. */
export function envPrefix(env: Record<string, string>): string {
  let out = ''
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new UsageError(`invalid environment variable name: ${JSON.stringify(name)}`)
    out += `${name}=${shq(value)} `
  }
  return out
}
