import {spawn, execFileSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cms, docker, makeCmsHome} from './helpers.js'

/**
 * `cms image load --push`: a local image pushed to a registry on 127.0.0.1 (Debian's docker-registry, started by the
 * test on a free port, storage in a temporary folder); asserts on the registry's own API. Skipped without the
 * docker-registry binary (apt-get install docker-registry).
 */
const registryBin = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v docker-registry'], {encoding: 'utf8'}).trim()
  } catch {
    return ''
  }
})()
const IMAGE = 'cms-e2e-push-tiny:1'

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as {port: number}).port
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

describe.skipIf(!registryBin)('cms image load --push to a registry on loopback', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  const work = mkdtempSync(join(tmpdir(), 'cms-e2e-push-'))
  let registry: ChildProcess | undefined
  let address = ''

  beforeAll(async () => {
    const port = await freePort()
    address = `127.0.0.1:${port}`
    writeFileSync(join(work, 'config.yml'), `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, 'storage')}\nhttp:\n  addr: ${address}\n`)
    registry = spawn(registryBin, ['serve', join(work, 'config.yml')], {stdio: 'ignore'})
    for (let i = 0; i < 50; i++) {
      if (await fetch(`http://${address}/v2/`).then((r) => r.ok, () => false)) break
      await new Promise((r) => setTimeout(r, 200))
    }
    writeFileSync(join(work, 'hello.txt'), 'hello from cms\n')
    writeFileSync(join(work, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n')
    await docker('build', '-q', '-t', IMAGE, work)
  })

  afterAll(async () => {
    registry?.kill('SIGTERM')
    await docker('rmi', IMAGE, `${address}/${IMAGE}`).catch(() => '')
    rmSync(work, {recursive: true, force: true})
    cleanup()
  })

  it('tags and pushes the image; the registry serves it under the digest cms reports', async () => {
    const r = await cms(['image', 'load', IMAGE, '--push', address, '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as {pushed: string; digest: string; id: string}
    expect(report.pushed).toBe(`${address}/${IMAGE}`)
    expect(await fetch(`http://${address}/v2/cms-e2e-push-tiny/tags/list`).then((x) => x.json())).toEqual({name: 'cms-e2e-push-tiny', tags: ['1']})
    const manifest = await fetch(`http://${address}/v2/cms-e2e-push-tiny/manifests/1`, {headers: {Accept: 'application/vnd.docker.distribution.manifest.v2+json'}})
    expect(manifest.headers.get('docker-content-digest')).toBe(report.digest)
    const config = ((await manifest.json()) as {config: {digest: string}}).config.digest
    expect(config).toBe(report.id)
  })

  it('refuses bad input with exit 2 and pushes nothing', async () => {
    for (const args of [
      ['image', 'load', IMAGE, '--push', 'https://bad'],
      ['image', 'load', 'cms-e2e-push-absent:1', '--push', address],
      ['image', 'load', IMAGE, '-n', 'some-cluster', '--push', address],
      ['image', 'load', IMAGE],
    ]) {
      const r = await cms(args, env)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
    expect(await fetch(`http://${address}/v2/_catalog`).then((x) => x.json())).toEqual({repositories: ['cms-e2e-push-tiny']})
  })
})
