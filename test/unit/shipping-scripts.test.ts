import {execFileSync} from 'node:child_process'
import {mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync, statSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {SPARK_PROBE} from '../../src/engines/spark/dist.js'
import {sparkLayout} from '../../src/engines/spark/layout.js'
import * as shipping from '../../src/engines/shipping-scripts.js'

function sh(script: string, env: Record<string, string> = {}) {
  return execFileSync('/bin/bash', ['-c', script], {env: {...process.env, ...env}, encoding: 'utf8'})
}

describe('distribution scripts', () => {
  it('parses the dist state line', () => {
    expect(shipping.parseDistState('unpacked=1 archive=12345\n')).toEqual({unpacked: true, archiveBytes: 12345})
    expect(shipping.parseDistState('unpacked=0 archive=0')).toEqual({unpacked: false, archiveBytes: 0})
    expect(() => shipping.parseDistState('garbage')).toThrow(/unexpected answer/)
  })

  it('unpacks an archive, finds SPARK_HOME, and reports state, in a real shell', () => {
    const home = mkdtempSync(join(tmpdir(), 'cms-unit-'))
    const src = join(home, 'src', 'spark-9.9.9')
    mkdirSync(join(src, 'bin'), {recursive: true})
    writeFileSync(join(src, 'bin', 'spark-class'), '#!/bin/sh\necho spark\n', {mode: 0o755})
    const l = sparkLayout(home, 'demo', 'id1', '.tgz')
    mkdirSync(l.distRoot, {recursive: true})
    execFileSync('tar', ['-czf', l.distArchive, '-C', join(home, 'src'), 'spark-9.9.9'])
    expect(shipping.parseDistState(sh(shipping.distStateScript(l)))).toEqual({unpacked: false, archiveBytes: readFileSync(l.distArchive).length})
    sh(shipping.unpackUploadedScript(l, '.tgz', SPARK_PROBE, 'Spark'))
    expect(sh(shipping.artifactRootScript(l))).toBe(`${l.distDir}/spark-9.9.9`)
    expect(shipping.parseDistState(sh(shipping.distStateScript(l))).unpacked).toBe(true)
    // idempotent
    sh(shipping.unpackUploadedScript(l, '.tgz', SPARK_PROBE, 'Spark'))
    expect(existsSync(join(l.distDir, 'spark-9.9.9', 'bin', 'spark-class'))).toBe(true)
  })

  it('unpacks an archive streamed on stdin, keeping no copy of it; a truncated stream leaves nothing behind', () => {
    const home = mkdtempSync(join(tmpdir(), 'cms-unit-'))
    const src = join(home, 'src', 'spark-9.9.9')
    mkdirSync(join(src, 'bin'), {recursive: true})
    writeFileSync(join(src, 'bin', 'spark-class'), '#!/bin/sh\necho spark\n', {mode: 0o755})
    const tgz = join(home, 'spark.tgz')
    execFileSync('tar', ['-czf', tgz, '-C', join(home, 'src'), 'spark-9.9.9'])
    const l = sparkLayout(home, 'demo', 'id3', '.tgz')
    const run = (input: Buffer) => execFileSync('/bin/bash', ['-c', shipping.unpackStreamedScript(l, '.tgz', SPARK_PROBE, 'Spark')], {input, encoding: 'utf8'})
    const bytes = readFileSync(tgz)
    expect(() => run(bytes.subarray(0, Math.floor(bytes.length / 2)))).toThrow()
    expect(existsSync(l.distRoot) ? sh(`ls -A ${JSON.stringify(l.distRoot)}`).trim() : '').toBe('')
    run(bytes)
    expect(sh(shipping.artifactRootScript(l))).toBe(`${l.distDir}/spark-9.9.9`)
    expect(shipping.parseDistState(sh(shipping.distStateScript(l)))).toEqual({unpacked: true, archiveBytes: 0})
    expect(sh(`ls -A ${JSON.stringify(l.distRoot)}`).trim()).toBe('id3')
  })

  it('refuses an archive without bin/spark-class and leaves no partial directory', () => {
    const home = mkdtempSync(join(tmpdir(), 'cms-unit-'))
    mkdirSync(join(home, 'src', 'junk'), {recursive: true})
    const l = sparkLayout(home, 'demo', 'id2', '.tgz')
    mkdirSync(l.distRoot, {recursive: true})
    execFileSync('tar', ['-czf', l.distArchive, '-C', join(home, 'src'), 'junk'])
    expect(() => sh(shipping.unpackUploadedScript(l, '.tgz', SPARK_PROBE, 'Spark'))).toThrow()
    expect(existsSync(l.distDir)).toBe(false)
    expect(sh(`ls ${JSON.stringify(l.distRoot)}`).trim()).toBe('id2.tgz')
  })
})

/** A PATH with the tools the unpack script uses, but not `missing`. */
function pathWithout(missing: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cms-bin-'))
  for (const tool of ['bash', 'sh', 'python3', 'find', 'head', 'mkdir', 'rm', 'mv', 'cat', 'chmod', 'ls']) {
    if (tool === missing) continue
    const system = ['/usr/bin', '/bin'].map((d) => join(d, tool)).find((f) => existsSync(f))
    symlinkSync(system ?? execFileSync('bash', ['-c', `command -v ${tool}`], {encoding: 'utf8'}).trim(), join(dir, tool))
  }
  return dir
}

describe('zip archives (the Nomad release format)', () => {
  it.each([
    ['unzip or python3', process.env.PATH ?? ''],
    ['python3 only', pathWithout('unzip')],
  ])('unpacks a binary at the top of a zip with %s and makes it executable', (_how, path) => {
    const home = mkdtempSync(join(tmpdir(), 'cms-unit-'))
    const l = shipping.artifactPaths(home, 'zip1', '.zip')
    mkdirSync(l.distRoot, {recursive: true})
    execFileSync('python3', ['-c', `import zipfile; z = zipfile.ZipFile(${JSON.stringify(l.distArchive)}, "w"); z.writestr("nomad", "#!/bin/sh\\necho 1.11.3\\n"); z.close()`])
    sh(shipping.unpackUploadedScript(l, '.zip', 'nomad', 'Nomad'), {PATH: path})
    expect(sh(shipping.artifactRootScript(l))).toBe(l.distDir)
    expect(statSync(join(l.distDir, 'nomad')).mode & 0o111).toBe(0o111)
    expect(sh(`${JSON.stringify(join(l.distDir, 'nomad'))}`).trim()).toBe('1.11.3')
    expect(sh(`ls -A ${JSON.stringify(l.distRoot)}`).trim().split('\n').sort()).toEqual(['zip1', 'zip1.zip'])
  })
})
