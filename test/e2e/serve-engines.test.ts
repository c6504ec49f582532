import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {buildBusyboxImage, cms, docker, makeCmsHome, removeClusterContainers, waitUntil} from './helpers.js'
import {makeKey, startServer, waitForTasks, type TestServer} from './serve-harness.js'

// One cms serve in front of a Nomad cluster and a Kubernetes cluster at once: a native HCL jobfile and a manifest
// go through the same service, are checked by their engine at admission, and run there (as the engine reports).
const PREFIX = process.env.CMS_E2E_SERVE_ENGINES_PREFIX ?? 'e2e-serve'
const NOMAD = `${PREFIX}-nomad`
const K8S = `${PREFIX}-k8s`
/** A Nomad cluster whose only host is stopped: known to its provider, not answering. */
const DOWN = `${PREFIX}-down`
/** The Nomad cluster again, attached by its address as if cms had not made it. */
const ATTACHED = `${PREFIX}-att`
const IMAGE = `cms-e2e-busybox:${K8S}`

const hcl = (name: string, script: string) => `job "${name}" {
  type = "batch"
  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    reschedule {
      attempts  = 0
      unlimited = false
    }
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", ${JSON.stringify(script)}]
      }
    }
  }
}
`

const manifest = (name: string, script: string) =>
  [
    'apiVersion: batch/v1',
    'kind: Job',
    `metadata: {name: ${name}, namespace: default}`,
    'spec:',
    '  backoffLimit: 0',
    '  template:',
    '    spec:',
    '      restartPolicy: Never',
    '      terminationGracePeriodSeconds: 1',
    `      containers: [{name: main, image: "${IMAGE}", imagePullPolicy: Never, command: ["/bin/sh", "-c", ${JSON.stringify(script)}]}]`,
  ].join('\n')

describe.skipIf(!process.env.CMS_NOMAD_DIST || !process.env.CMS_K8S_DIST)('cms serve in front of a Nomad and a Kubernetes cluster', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  let server: TestServer
  let key = ''

  const engineJob = async (cluster: string, id: string) => {
    const r = await cms(['job', 'status', '-n', cluster, id, '--json'], env)
    if (r.code !== 0) throw new Error(r.stderr)
    return JSON.parse(r.stdout) as {id: string; state: string; kind: string}
  }

  beforeAll(async () => {
    await Promise.all([removeClusterContainers(NOMAD), removeClusterContainers(K8S), removeClusterContainers(DOWN)])
    const [n, k, d] = await Promise.all([
      cms(['cluster', 'create', '-n', NOMAD, '-e', 'nomad', '--hosts', '1'], env, {timeoutMs: 900_000}),
      cms(['cluster', 'create', '-n', K8S, '-e', 'kubernetes', '--hosts', '1'], env, {timeoutMs: 900_000}),
      cms(['cluster', 'create', '-n', DOWN, '-e', 'nomad', '--hosts', '1'], env, {timeoutMs: 900_000}),
      buildBusyboxImage(IMAGE),
    ])
    if (n.code !== 0) throw new Error(`nomad create failed: ${n.stderr}`)
    if (k.code !== 0) throw new Error(`kubernetes create failed: ${k.stderr}`)
    if (d.code !== 0) throw new Error(`nomad create (${DOWN}) failed: ${d.stderr}`)
    await docker('stop', '-t', '1', `cms-${DOWN}-1`)
    const loaded = await cms(['image', 'load', '-n', K8S, IMAGE], env, {timeoutMs: 300_000})
    if (loaded.code !== 0) throw new Error(`image load failed: ${loaded.stderr}`)
    key = await makeKey(env, 'ci', 'submit')
    server = await startServer(env)
  })

  afterAll(async () => {
    await server?.stop()
    await Promise.all([NOMAD, K8S, DOWN].map((c) => cms(['cluster', 'kill', '-n', c, '--yes'], env, {timeoutMs: 300_000}).catch(() => undefined)))
    await Promise.all([removeClusterContainers(NOMAD), removeClusterContainers(K8S), removeClusterContainers(DOWN)])
    await docker('rmi', IMAGE).catch(() => '')
    cleanup()
  })

  it('lists both clusters with their engine, health and capacity', async () => {
    const r = await server.call('GET', '/mgmt/clusters', {key})
    expect(r.status).toBe(200)
    const byName = Object.fromEntries((r.body.clusters as Array<{name: string}>).map((c) => [c.name, c])) as Record<string, {engine: string; health: string; capacity?: {cores: number}}>
    expect(byName[NOMAD]).toMatchObject({engine: 'nomad', health: 'healthy'})
    expect(byName[K8S]).toMatchObject({engine: 'kubernetes', health: 'healthy'})
    expect(byName[K8S]!.capacity!.cores).toBeGreaterThan(0)
  })

  it('a jobfile the engine refuses is 422 at admission, with the engine\'s own message', async () => {
    const bad = await server.call('POST', '/task', {key, json: {cluster: NOMAD, jobfile: {name: 'bad.hcl', content: 'job "bad" {\n  group "g" {\n    task "t" {\n      driver = "raw_exec"\n      config { command = }\n    }\n  }\n}\n'}}})
    expect(bad.status).toBe(422)
    expect(bad.body.error).toMatch(/^jobfile: .*bad\.hcl:5,\d+/)
    const refused = await server.call('POST', '/task', {key, json: {cluster: K8S, jobfile: {name: 'bad.yaml', content: manifest('bad', 'true').replace('restartPolicy: Never', 'restartPolicy: Sometimes')}}})
    expect(refused.status).toBe(422)
    expect(refused.body.error).toMatch(/^jobfile: .*Job default\/bad/)
  })

  it('an HCL task on Nomad and a manifest task on Kubernetes run through the same service', async () => {
    const nomad = await server.call('POST', '/task', {key, json: {id: 'nomad-hello', cluster: NOMAD, jobfile: {name: 'hello.hcl', content: hcl('serve-hello', 'echo CMS-SERVE-NOMAD')}}})
    expect(nomad.status, nomad.text).toBe(201)
    const k8s = await server.call('POST', '/task', {key, json: {id: 'k8s-hello', cluster: K8S, jobfile: {name: 'hello.yaml', content: manifest('serve-hello', 'echo CMS-SERVE-K8S')}}})
    expect(k8s.status, k8s.text).toBe(201)
    const done = await waitForTasks(server, key, ['nomad-hello', 'k8s-hello'], ['SUCCEEDED', 'DEAD'], 300_000)
    expect(done.map((t) => t.state)).toEqual(['SUCCEEDED', 'SUCCEEDED'])
    expect(done[0].engine).toBe('nomad')
    expect(done[1].engine).toBe('kubernetes')
    expect(await engineJob(NOMAD, done[0].engineJobId)).toMatchObject({id: 'serve-hello', state: 'SUCCEEDED', kind: 'nomad'})
    expect(await engineJob(K8S, done[1].engineJobId)).toMatchObject({id: 'default/serve-hello', state: 'SUCCEEDED', kind: 'kubernetes'})
    expect((await server.call('GET', '/task/nomad-hello/logs', {key})).text).toContain('CMS-SERVE-NOMAD')
    expect((await server.call('GET', '/task/k8s-hello/logs', {key})).text).toContain('CMS-SERVE-K8S')
  })

  it('a task on an attached cluster (cms cluster attach, no provider) runs through the same service', async () => {
    const head = `cms-${NOMAD}-1`
    const dir = `/root/.cms/clusters/${NOMAD}/nomad`
    const files = mkdtempSync(join(tmpdir(), 'cms-e2e-serve-attach-'))
    const copy = async (from: string) => {
      const to = join(files, from.replaceAll('/', '-'))
      writeFileSync(to, await docker('exec', head, 'cat', `${dir}/${from}`), {mode: 0o600})
      return to
    }
    const ip = await docker('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', head)
    const attEnv = {
      ...env,
      NOMAD_CACERT: await copy('tls/ca.pem'),
      NOMAD_CLIENT_CERT: await copy('secrets/cli.pem'),
      NOMAD_CLIENT_KEY: await copy('secrets/cli-key.pem'),
      NOMAD_TLS_SERVER_NAME: 'server.global.nomad',
      NOMAD_TOKEN: (await docker('exec', head, 'cat', `${dir}/secrets/management.token`)).trim(),
    }
    const attached = await cms(['cluster', 'attach', '-n', ATTACHED, '--nomad-addr', `https://${ip}:4646`], attEnv)
    expect(attached.code, attached.stderr).toBe(0)
    try {
      const r = await server.call('POST', '/task', {key, json: {id: 'attached-hello', cluster: ATTACHED, jobfile: {name: 'hello.hcl', content: hcl('serve-attached', 'echo CMS-SERVE-ATTACHED')}}})
      expect(r.status, r.text).toBe(201)
      const [task] = await waitForTasks(server, key, ['attached-hello'], ['SUCCEEDED', 'DEAD'], 300_000)
      expect(task.state).toBe('SUCCEEDED')
      // Nomad itself reports the job done, asked through the cluster as cms made it.
      expect(await engineJob(NOMAD, 'serve-attached')).toMatchObject({id: 'serve-attached', state: 'SUCCEEDED', kind: 'nomad'})
      expect((await server.call('GET', '/task/attached-hello/logs', {key})).text).toContain('CMS-SERVE-ATTACHED')
      // The service lists clusters at most every 15 s: the attached one is on its clusters page by then.
      let listed: {name: string; engine: string; health: string; provider: string} | undefined
      await waitUntil('the attached cluster on /mgmt/clusters', async () => {
        listed = ((await server.call('GET', '/mgmt/clusters', {key})).body.clusters as Array<NonNullable<typeof listed>>).find((c) => c.name === ATTACHED)
        return listed !== undefined
      }, 60_000)
      expect(listed).toMatchObject({engine: 'nomad', health: 'healthy', provider: 'attached'})
    } finally {
      await cms(['cluster', 'detach', '-n', ATTACHED], env)
      rmSync(files, {recursive: true, force: true})
    }
  })

  it('a rerun of a finished jobfile task runs it again on its engine', async () => {
    const r = await server.call('POST', '/task/nomad-hello/rerun', {key})
    expect(r.status, r.text).toBe(200)
    const [task] = await waitForTasks(server, key, ['nomad-hello'], ['SUCCEEDED', 'DEAD'], 300_000)
    expect(task.state).toBe('SUCCEEDED')
    expect(task.attempts).toHaveLength(2)
    const job = await engineJob(NOMAD, 'serve-hello')
    expect((job as unknown as {version: number}).version).toBeGreaterThanOrEqual(1)
  })

  it('a cluster that does not answer: its tasks wait; a task naming a fallback runs on the first cluster that answers', async () => {
    const waiting = await server.call('POST', '/task', {key, json: {id: 'waits', cluster: DOWN, jobfile: {name: 'waits.hcl', content: hcl('serve-waits', 'true')}}})
    expect(waiting.status, waiting.text).toBe(201)
    const routed = await server.call('POST', '/task', {key, json: {id: 'routed', cluster: [DOWN, NOMAD], jobfile: {name: 'routed.hcl', content: hcl('serve-routed', 'echo routed')}}})
    expect(routed.status, routed.text).toBe(201)
    const [task] = await waitForTasks(server, key, ['routed'], ['SUCCEEDED', 'DEAD'], 300_000)
    expect(task).toMatchObject({state: 'SUCCEEDED', cluster: NOMAD})
    expect(await engineJob(NOMAD, 'serve-routed')).toMatchObject({state: 'SUCCEEDED'})
    const still = (await server.call('GET', '/task/waits', {key})).body
    expect(still.state).toBe('QUEUED')
    expect(still.queue.waitingFor).toMatch(new RegExp(`^cluster ${DOWN} is not answering`))
    expect((await server.call('DELETE', '/task/waits', {key})).body.state).toBe('KILLED')
  })
})
