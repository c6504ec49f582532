import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {importBinaryImageScript, importPauseImageScript, PAUSE_IMAGE} from '../../../src/engines/kubernetes/pause-image.js'

const dir = mkdtempSync(join(tmpdir(), 'cms-pause-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** A stand-in for ctr that keeps the archive it is given and then lists the image, as containerd would. */
function fakeCtr(): string {
  const ctr = join(dir, 'ctr')
  writeFileSync(
    ctr,
    [
      '#!/bin/sh',
      `state=${dir}/imported`,
      'for a in "$@"; do last=$a; done',
      'case " $* " in',
      `  *" images ls "*) [ -f "$state" ] && echo ${PAUSE_IMAGE}; exit 0 ;;`,
      `  *" images import "*) cp "$last" ${dir}/got.tar; touch "$state"; exit 0 ;;`,
      'esac',
      'exit 9',
    ].join('\n'),
  )
  chmodSync(ctr, 0o755)
  return ctr
}

describe('the pause image', () => {
  it('is a one-layer image archive of the static binary, imported once', () => {
    const binary = join(dir, 'catatonit')
    writeFileSync(binary, 'not really a binary\n', {mode: 0o755})
    const script = importPauseImageScript({binary, socket: '/run/cms/demo/containerd/containerd.sock', ctr: fakeCtr()})
    expect(execFileSync('bash', ['-c', script], {encoding: 'utf8'}).trim()).toBe('imported')
    expect(execFileSync('bash', ['-c', script], {encoding: 'utf8'}).trim()).toBe('present')

    const x = join(dir, 'x')
    mkdirSync(x)
    execFileSync('tar', ['-xf', join(dir, 'got.tar'), '-C', x])
    const manifest = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8'))
    expect(manifest).toHaveLength(1)
    expect(manifest[0].RepoTags).toEqual([PAUSE_IMAGE])
    const layer = readFileSync(join(x, manifest[0].Layers[0]))
    const configBytes = readFileSync(join(x, manifest[0].Config))
    expect(manifest[0].Config).toBe(`${createHash('sha256').update(configBytes).digest('hex')}.json`)
    const config = JSON.parse(configBytes.toString('utf8'))
    expect(config.rootfs).toEqual({type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(layer).digest('hex')}`]})
    expect(config.config).toEqual({Entrypoint: ['/pause', '-P'], User: '65535:65535'})
    expect(config.os).toBe('linux')
    expect(execFileSync('tar', ['-tvf', join(x, manifest[0].Layers[0])], {encoding: 'utf8'})).toMatch(/^-rwxr-xr-x 0\/0 .* pause$/m)
  })

  it('says what is missing when the binary is not there, and refuses bad references', () => {
    rmSync(join(dir, 'imported'), {force: true})
    const script = importPauseImageScript({binary: join(dir, 'none'), socket: '/run/x.sock', ctr: fakeCtr()})
    expect(() => execFileSync('bash', ['-c', script], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})).toThrow(/no pause binary at .*catatonit/)
    expect(() => importPauseImageScript({socket: '/run/x.sock', ref: 'pause'})).toThrow(/image reference/)
    expect(() => importPauseImageScript({socket: 'x.sock'})).toThrow(/absolute/)
    expect(() => importPauseImageScript({socket: '/run/x.sock', args: ['"']})).toThrow(/quotes/)
  })

  it('makes any static binary an image: its name, arguments and user', () => {
    rmSync(join(dir, 'imported'), {force: true})
    rmSync(join(dir, 'x2'), {recursive: true, force: true})
    const binary = join(dir, 'coredns')
    writeFileSync(binary, 'fake coredns\n', {mode: 0o755})
    const ctr = fakeCtr()
    // The fake lists PAUSE_IMAGE once imported: the import is what this test looks at.
    const script = importBinaryImageScript({binary, name: 'coredns', ref: 'cms.local/coredns:1.12.4', user: '65532:65532', socket: '/run/x.sock', ctr})
    expect(() => execFileSync('bash', ['-c', script], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})).toThrow(/did not list cms.local\/coredns:1.12.4/)
    const x = join(dir, 'x2')
    mkdirSync(x)
    execFileSync('tar', ['-xf', join(dir, 'got.tar'), '-C', x])
    const manifest = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8'))
    expect(manifest[0].RepoTags).toEqual(['cms.local/coredns:1.12.4'])
    expect(JSON.parse(readFileSync(join(x, manifest[0].Config), 'utf8')).config).toEqual({Entrypoint: ['/coredns'], User: '65532:65532'})
    expect(execFileSync('tar', ['-tf', join(x, manifest[0].Layers[0])], {encoding: 'utf8'}).trim()).toBe('coredns')
    expect(() => importBinaryImageScript({binary, name: '../x', ref: 'cms.local/x:1', socket: '/run/x.sock'})).toThrow(/file name/)
    expect(() => importBinaryImageScript({binary, name: 'sh', dir: '../bin', ref: 'cms.local/x:1', socket: '/run/x.sock'})).toThrow(/folder name/)
    expect(() => importBinaryImageScript({binary, name: 'x', ref: 'cms.local/x:1', user: 'root', socket: '/run/x.sock'})).toThrow(/UID:GID/)
  })

  it('puts the binary in a folder of the image when asked (busybox as /bin/sh)', () => {
    rmSync(join(dir, 'imported'), {force: true})
    rmSync(join(dir, 'x3'), {recursive: true, force: true})
    const binary = join(dir, 'busybox')
    writeFileSync(binary, 'fake busybox\n', {mode: 0o755})
    const script = importBinaryImageScript({binary, dir: 'bin', name: 'sh', ref: 'cms.local/helper:busybox', user: '0:0', socket: '/run/x.sock', ctr: fakeCtr()})
    expect(() => execFileSync('bash', ['-c', script], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})).toThrow(/did not list/)
    const x = join(dir, 'x3')
    mkdirSync(x)
    execFileSync('tar', ['-xf', join(dir, 'got.tar'), '-C', x])
    const manifest = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8'))
    expect(JSON.parse(readFileSync(join(x, manifest[0].Config), 'utf8')).config).toEqual({Entrypoint: ['/bin/sh'], User: '0:0'})
    expect(execFileSync('tar', ['-tf', join(x, manifest[0].Layers[0])], {encoding: 'utf8'}).trim().split('\n')).toEqual(['bin/', 'bin/sh'])
  })
})
