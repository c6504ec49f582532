import {spawnSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {UsageError} from '../../../src/remote/errors.js'
import {envPrefix, shJoin, shq} from '../../../src/remote/shell.js'

function viaSh(script: string, ...args: string[]): string {
  const r = spawnSync('sh', ['-c', script, '_', ...args], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`sh failed: ${r.stderr}`)
  return r.stdout
}

const NASTY = [
  '',
  ' ',
  'plain',
  "it's",
  "''",
  "'",
  '"double"',
  '$HOME',
  '${PATH}',
  '$(id)',
  '`id`',
  'a;rm -rf /',
  'a && b || c',
  'line1\nline2\n',
  '\n',
  'tab\there',
  '\\',
  '\\\'',
  '*',
  '?[a-z]',
  '~',
  '~root',
  '-n',
  '--help',
  '!event',
  '#comment',
  'a=b',
  'ümlaut ✓ 日本',
  '\x01\x7f',
  "mix 'single' \"double\" $var `cmd` \\ \n end",
]

describe('shq / shJoin', () => {
  it.each(NASTY.map((s) => [JSON.stringify(s), s]))('round-trips %s through sh', (_, s) => {
    // exact, including trailing newlines: through "$1" and as a quoted literal in the script
    expect(viaSh('printf %s "$1"', s)).toBe(s)
    expect(viaSh(`printf %s ${shq(s)}`)).toBe(s)
  })

  it('shJoin keeps argv boundaries', () => {
    const out = viaSh(`for a in ${shJoin(NASTY)}; do printf '%s\\0' "$a"; done`)
    expect(out.split('\0').slice(0, -1)).toEqual(NASTY)
  })

  it('leaves simple words readable and always quotes the empty string', () => {
    expect(shq('/opt/spark-3.5.1/bin')).toBe('/opt/spark-3.5.1/bin')
    expect(shq('')).toBe("''")
    expect(shq('a b')).toBe("'a b'")
  })

  it('refuses NUL', () => {
    expect(() => shq('a\0b')).toThrow(UsageError)
  })
})

describe('envPrefix', () => {
  it('quotes values and validates names', () => {
    const prefix = envPrefix({A: 'x y', _B2: "it's $HOME"})
    expect(prefix).toBe(`A='x y' _B2='it'\\''s $HOME' `)
    expect(viaSh(`${prefix}sh -c 'printf "%s|%s" "$A" "$_B2"'`)).toBe("x y|it's $HOME")
    expect(envPrefix({})).toBe('')
  })

  it.each(['1A', 'A-B', 'A B', '', 'A;B', '$X'])('rejects name %j', (name) => {
    expect(() => envPrefix({[name]: 'v'})).toThrow(UsageError)
  })
})
