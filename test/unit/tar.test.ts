import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {tarArchive} from '../../src/providers/tar.js'
import {readTarFile} from '../../src/providers/tar-read.js'

describe('tar writer and reader', () => {
  it('writes archives GNU tar extracts with content and modes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-tar-'))
    const file = join(dir, 'a.tar')
    writeFileSync(file, tarArchive([
      {path: 'key', content: 'secret\n', mode: 0o600},
      {path: 'key.pub', content: Buffer.alloc(1000, 'x'), mode: 0o644},
    ]))
    execFileSync('tar', ['-xf', file, '-C', dir])
    expect(readFileSync(join(dir, 'key'), 'utf8')).toBe('secret\n')
    expect(statSync(join(dir, 'key')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(dir, 'key.pub')).length).toBe(1000)
  })

  it('reads the first file back', async () => {
    const archive = tarArchive([{path: 'x', content: 'hello', mode: 0o644}])
    expect((await readTarFile(Readable.from([archive.subarray(0, 700), archive.subarray(700)]))).toString()).toBe('hello')
  })
})
