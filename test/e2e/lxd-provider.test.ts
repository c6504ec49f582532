import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {request} from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {SHADOWED_SYSCTLS} from '../../src/engines/kubernetes/node-container.js'
import {aliveWorkers, buildBusyboxImage, cms, docker, makeCmsHome, runPinnedPod, startCms, waitForAliveWorkers, waitUntil} from './helpers.js'
import {addressOf, clusterInstances, deleteClusterInstances, instanceFile, lxdSocket} from './lxd-daemon.js'

// `-p lxd` against the private LXD daemon scripts/lxd.sh runs in its own network namespace: real containers from
// cms's image, booted by systemd, keyed by cloud-init, on a bridge this machine routes to. Assertions read the LXD
// API and the Spark master's own API, never what cms printed.
const NAME = 'lxd-e2e'
const run = promisify(execFile)

describe('lxd provider end to end (a private LXD daemon, Spark)', () => {
  const {home, cleanup} = makeCmsHome()
  let env: Record<string, string>

  beforeAll(() => {
    if (!process.env.CMS_SPARK_DIST) throw new Error('CMS_SPARK_DIST is not set: run eval "$(bash scripts/testbed.sh)" first')
    // No Docker engine for cms: an lxd cluster needs none, and `list` must not touch other clusters' containers.
    env = {CMS_HOME: home, CMS_LXD_SOCKET: lxdSocket(), DOCKER_HOST: 'unix:///nonexistent/docker.sock'}
  })

  afterAll(async () => {
    await deleteClusterInstances(NAME)
    cleanup()
  })

  it('a bad flag exits 2 before anything is made', async () => {
    const r = await cms(['cluster', 'create', '-n', NAME, '-p', 'lxd', '--hosts', '2', '--memory', '12XB'], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('invalid --memory "12XB"')
    const other = await cms(['cluster', 'create', '-n', NAME, '-p', 'lxd', '--hosts', '2', '--spot'], env)
    expect(other.code).toBe(2)
    expect(other.stderr).toContain('--spot: only for the aws provider')
    expect(await clusterInstances(NAME)).toEqual([])
    expect(existsSync(join(home, 'keys', NAME))).toBe(false)
  })

  it('create makes 2 tagged, running instances with their limits, trusted by the host keys cms made, and a healthy Spark cluster', async () => {
    const started = Date.now()
    const r = await cms(['cluster', 'create', '-n', NAME, '-p', 'lxd', '--hosts', '2', '--cpus', '1', '--memory', '1GiB', '--json'], env)
    console.log(`create -p lxd --hosts 2: ${((Date.now() - started) / 1000).toFixed(1)} s`)
    expect(r.code, r.stderr).toBe(0)
    const instances = await clusterInstances(NAME)
    expect(instances.map((i) => [i.name, i.status, i.config['user.cms.role'], i.config['user.cms.engine'], i.config['limits.cpu'], i.config['limits.memory']])).toEqual([
      [`cms-${NAME}-1`, 'Running', 'head', 'spark', '1', '1024MiB'],
      [`cms-${NAME}-2`, 'Running', 'worker', 'spark', '1', '1024MiB'],
    ])
    // Host keys were known before the first connection: known_hosts holds, for each instance's address, exactly the
    // key in its config (the one handed to cloud-init); nothing was recorded on first use.
    expect(r.stderr).not.toContain('Recorded host key')
    const knownHosts = readFileSync(join(home, 'known_hosts'), 'utf8')
    for (const i of instances) expect(knownHosts).toContain(`${addressOf(i)} ${i.config['user.cms.host-key']}\n`)
    expect(statSync(join(home, 'keys', NAME)).mode & 0o777).toBe(0o600)
    // The private half of the login key never went to the daemon: only its public line is in the user data.
    const privateKey = readFileSync(join(home, 'keys', NAME), 'utf8')
    expect(instances.every((i) => i.config['user.user-data'].includes(readFileSync(join(home, 'keys', `${NAME}.pub`), 'utf8').trim()) && !i.config['user.user-data'].includes(privateKey.trim()))).toBe(true)
    const master = await waitForAliveWorkers(addressOf(instances[0]!), 2)
    expect(master.status).toBe('ALIVE')
    expect(aliveWorkers(master)).toEqual(instances.map(addressOf).sort())
    expect(JSON.parse(r.stdout).cluster.health).toBe('healthy')
  })

  it('a rerun of create launches nothing and uploads nothing; every host answers cluster run as itself', async () => {
    const before = await clusterInstances(NAME)
    const r = await cms(['cluster', 'create', '-n', NAME, '-p', 'lxd', '--hosts', '2', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const after = await clusterInstances(NAME)
    expect(after.map((i) => [i.name, i.created_at])).toEqual(before.map((i) => [i.name, i.created_at]))
    expect(JSON.parse(r.stdout).transfer.uploadedBytes).toBe(0)
    // Every host answers `cluster run` as itself (its hostname is its instance name, from the image's template).
    const run = await cms(['cluster', 'run', '-n', NAME, '--json', '--', 'cat', '/etc/hostname'], env)
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(run.stdout) as {hosts: Array<{host: string; exitCode: number; stdout: string}>}
    expect(report.hosts.map((h) => [h.host, h.exitCode, h.stdout.trim()])).toEqual(after.map((i) => [i.name, 0, i.name]))
  })

  it('list with an empty CMS_HOME finds the cluster on the daemon; a daemon that does not answer is named, quickly', async () => {
    const empty = makeCmsHome()
    try {
      const r = await cms(['cluster', 'list', '--json'], {...env, CMS_HOME: empty.home})
      expect(r.code, r.stderr).toBe(0)
      const entry = JSON.parse(r.stdout).clusters.find((c: {name: string}) => c.name === NAME)
      expect(entry).toMatchObject({provider: 'lxd', engine: 'spark', hosts: 2, runningHosts: 2})
      expect(entry.error).toContain('access key')

      // A socket file nobody listens on: "could not ask", not a hang and not a failure of the whole listing.
      const dead = join(empty.home, 'dead.socket')
      writeFileSync(dead, '')
      const started = Date.now()
      const deadList = await cms(['cluster', 'list', '--json'], {...env, CMS_HOME: empty.home, CMS_LXD_SOCKET: dead})
      expect(deadList.code, deadList.stderr).toBe(0)
      expect(Date.now() - started).toBeLessThan(15_000)
      expect(JSON.parse(deadList.stdout).unreachable).toEqual([{provider: 'lxd', error: expect.stringContaining(`cannot reach the LXD daemon at ${dead}`)}])
    } finally {
      empty.cleanup()
    }
  })

  it('add over the remote HTTPS API (client certificate, pinned server certificate) makes a worker like the others and it joins the master; remove drains it and deletes its instance', async () => {
    // The same daemon as a remote: its HTTPS listener in its namespace, a client certificate it trusts, its own
    // certificate pinned. A server certificate that is not the daemon's is refused before anything is asked.
    const tls = process.env.CMS_LXD_TEST_TLS
    const remote = process.env.CMS_LXD_TEST_REMOTE
    if (!tls || !remote) throw new Error('CMS_LXD_TEST_REMOTE and CMS_LXD_TEST_TLS are not set: run eval "$(bash scripts/lxd.sh)" first')
    const client = ['--lxd-remote', remote, '--lxd-client-cert', join(tls, 'client.crt'), '--lxd-client-key', join(tls, 'client.key')]
    const serverCert = join(lxdSocket(), '..', 'server.crt')
    const wrongServer = await cms(['cluster', 'list', ...client, '--lxd-server-cert', join(tls, 'client.crt')], env)
    expect(wrongServer.code).not.toBe(0)
    expect(wrongServer.stderr).toContain(`cannot reach the LXD daemon at ${remote}`)
    const added = await cms(['cluster', 'add', '-n', NAME, ...client, '--lxd-server-cert', serverCert, '--json'], env)
    expect(added.code, added.stderr).toBe(0)
    let instances = await clusterInstances(NAME)
    expect(instances).toHaveLength(3)
    const third = instances[2]!
    expect([third.name, third.status, third.config['user.cms.role'], third.config['limits.cpu'], third.config['limits.memory']]).toEqual([`cms-${NAME}-3`, 'Running', 'worker', '1', '1024MiB'])
    const head = addressOf(instances[0]!)
    expect(aliveWorkers(await waitForAliveWorkers(head, 3))).toContain(addressOf(third))

    const removed = await cms(['cluster', 'remove', '-n', NAME, third.name], env)
    expect(removed.code, removed.stderr).toBe(0)
    instances = await clusterInstances(NAME)
    expect(instances.map((i) => i.name)).toEqual([`cms-${NAME}-1`, `cms-${NAME}-2`])
    expect(aliveWorkers(await waitForAliveWorkers(head, 2))).not.toContain(addressOf(third))
  })

  it('kill deletes every instance and the key', async () => {
    const r = await cms(['cluster', 'kill', '-n', NAME, '--yes', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(await clusterInstances(NAME)).toEqual([])
    expect(existsSync(join(home, 'keys', NAME))).toBe(false)
    expect((await cms(['cluster', 'info', '-n', NAME], env)).code).toBe(2)
  })
})

// The other engines on the same daemon, one host each (the head runs the engine's workers too): created once, asked
// through their own APIs, killed.
describe('lxd provider with the other engines (one host each)', () => {
  const {home, cleanup} = makeCmsHome()
  let env: Record<string, string>
  const NOMAD = 'lxd-e2e-nomad'
  const HADOOP = 'lxd-e2e-hadoop'

  beforeAll(() => {
    for (const v of ['CMS_NOMAD_DIST', 'CMS_HADOOP_DIST']) if (!process.env[v]) throw new Error(`${v} is not set: run eval "$(bash scripts/testbed.sh --nomad --hadoop)" first`)
    env = {CMS_HOME: home, CMS_LXD_SOCKET: lxdSocket(), DOCKER_HOST: 'unix:///nonexistent/docker.sock'}
  })

  afterAll(async () => {
    await deleteClusterInstances(NOMAD)
    await deleteClusterInstances(HADOOP)
    cleanup()
  })

  /** Nomad's HTTP API on the instance, with the cluster's CA, cms's client certificate and the management token read through LXD's file API. */
  async function nomadNodes(instance: string, address: string): Promise<Array<{Address: string; Status: string}>> {
    const dir = `/home/admin/.cms/clusters/${NOMAD}/nomad`
    const [ca, cert, key, token] = await Promise.all(['tls/ca.pem', 'secrets/cli.pem', 'secrets/cli-key.pem', 'secrets/management.token'].map((f) => instanceFile(instance, `${dir}/${f}`)))
    return new Promise((resolve, reject) => {
      const req = request({host: address, port: 4646, path: '/v1/nodes', ca, cert, key, servername: 'server.global.nomad', headers: {'X-Nomad-Token': token.trim()}, timeout: 15_000}, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve(JSON.parse(body)))
      })
      req.on('error', reject)
      req.end()
    })
  }

  it('nomad: create makes a tagged instance whose Nomad client is ready at its address; kill leaves nothing', async () => {
    const r = await cms(['cluster', 'create', '-n', NOMAD, '-p', 'lxd', '-e', 'nomad', '--hosts', '1'], env)
    expect(r.code, r.stderr).toBe(0)
    const [head] = await clusterInstances(NOMAD)
    expect([head!.status, head!.config['user.cms.engine']]).toEqual(['Running', 'nomad'])
    const nodes = await nomadNodes(head!.name, addressOf(head!))
    expect(nodes.map((n) => [n.Address, n.Status])).toEqual([[addressOf(head!), 'ready']])
    expect((await cms(['cluster', 'kill', '-n', NOMAD, '--yes'], env)).code).toBe(0)
    expect(await clusterInstances(NOMAD)).toEqual([])
  })

  it('hadoop: create makes a tagged instance whose NodeManager and DataNode are live at its address; kill leaves nothing', async () => {
    const r = await cms(['cluster', 'create', '-n', HADOOP, '-p', 'lxd', '-e', 'hadoop', '--hosts', '1'], env)
    expect(r.code, r.stderr).toBe(0)
    const [head] = await clusterInstances(HADOOP)
    const address = addressOf(head!)
    expect([head!.status, head!.config['user.cms.engine']]).toEqual(['Running', 'hadoop'])
    const rm = (await (await fetch(`http://${address}:8088/ws/v1/cluster/nodes`, {headers: {accept: 'application/json'}, signal: AbortSignal.timeout(15_000)})).json()) as {nodes: {node: Array<{state: string; nodeHostName: string}>}}
    expect(rm.nodes.node.map((n) => [n.nodeHostName, n.state])).toEqual([[address, 'RUNNING']])
    const jmx = (await (await fetch(`http://${address}:9870/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo`, {signal: AbortSignal.timeout(15_000)})).json()) as {beans: Array<{LiveNodes: string}>}
    expect(Object.keys(JSON.parse(jmx.beans[0]!.LiveNodes)).map((k) => k.replace(/:\d+$/, ''))).toEqual([address])
    expect((await cms(['cluster', 'kill', '-n', HADOOP, '--yes'], env)).code).toBe(0)
    expect(await clusterInstances(HADOOP)).toEqual([])
  })
})

describe('lxd provider with Kubernetes (privileged node containers, 2 hosts)', () => {
  const {home, cleanup} = makeCmsHome()
  const K8S = 'lxd-e2e-k8s'
  const BUSYBOX = `cms-e2e-busybox:${K8S}`
  const work = mkdtempSync(join(tmpdir(), 'cms-e2e-lxd-k8s-'))
  const kubeconfig = join(work, 'kubeconfig')
  // This machine's kernel settings that a node container would change if it wrote them (they are shadowed inside).
  const watched = () => SHADOWED_SYSCTLS.map((s) => `${s.path}=${readFileSync(s.path, 'utf8').trim()}`)
  const before = watched()
  let env: Record<string, string>
  let tunnel: ReturnType<typeof startCms> | undefined
  let kubectlBin = ''

  const kubectl = async (...args: string[]): Promise<string> => {
    const {stdout} = await run(kubectlBin, ['--kubeconfig', kubeconfig, '--cache-dir', join(work, 'cache'), ...args], {maxBuffer: 16 << 20, timeout: 180_000})
    return stdout.trim()
  }

  beforeAll(async () => {
    if (!process.env.CMS_K8S_DIST) throw new Error('CMS_K8S_DIST is not set: run eval "$(bash scripts/testbed.sh --kubernetes)" first')
    env = {CMS_HOME: home, CMS_LXD_SOCKET: lxdSocket(), DOCKER_HOST: 'unix:///nonexistent/docker.sock'}
    await run('tar', ['-xzf', process.env.CMS_K8S_DIST, '-C', work, 'bin/kubectl'])
    kubectlBin = join(work, 'bin', 'kubectl')
    await buildBusyboxImage(BUSYBOX)
  }, 600_000)

  afterAll(async () => {
    tunnel?.child.kill('SIGINT')
    await tunnel?.done
    await deleteClusterInstances(K8S)
    await docker('rmi', BUSYBOX).catch(() => '')
    rmSync(work, {recursive: true, force: true})
    cleanup()
  })

  it('create makes 2 privileged containers from the node image, Ready nodes at their addresses, and changes none of this machine\'s kernel settings', async () => {
    const r = await cms(['cluster', 'create', '-n', K8S, '-p', 'lxd', '-e', 'kubernetes', '--hosts', '2'], env, {timeoutMs: 900_000})
    expect(r.code, r.stderr).toBe(0)
    const instances = await clusterInstances(K8S)
    expect(instances.map((i) => [i.type, i.status, i.config['user.cms.role'], i.config['user.cms.ssh-user'], i.config['security.privileged'], i.config['image.description']])).toEqual([
      ['container', 'Running', 'head', 'root', 'true', 'Debian 12 (bookworm) for cms (k8s-host), cloud-init from user.user-data'],
      ['container', 'Running', 'worker', 'root', 'true', 'Debian 12 (bookworm) for cms (k8s-host), cloud-init from user.user-data'],
    ])
    expect(instances.map((i) => i.devices?.kmsg)).toEqual([
      {type: 'unix-char', source: '/dev/kmsg', path: '/dev/kmsg'},
      {type: 'unix-char', source: '/dev/kmsg', path: '/dev/kmsg'},
    ])
    expect((await cms(['cluster', 'kubeconfig', '-n', K8S, '--file', kubeconfig], env)).code).toBe(0)
    tunnel = startCms(['cluster', 'tunnel', '-n', K8S], env)
    await waitUntil('the tunnel', async () => (await kubectl('get', '--raw', '/readyz').catch(() => '')) === 'ok', 60_000)
    const nodes = (JSON.parse(await kubectl('get', 'nodes', '-o', 'json')) as {items: Array<{metadata: {name: string}; status: {conditions: Array<{type: string; status: string}>; addresses: Array<{type: string; address: string}>}}>}).items
    expect(nodes.map((n) => [n.metadata.name, n.status.addresses.find((a) => a.type === 'InternalIP')?.address, n.status.conditions.find((c) => c.type === 'Ready')?.status]).sort()).toEqual(
      instances.map((i) => [i.name, addressOf(i), 'True']).sort(),
    )
    expect(watched()).toEqual(before)
  })

  it('a pod from an image cms loaded runs to completion on the worker, through the pod network and cluster DNS', async () => {
    const {DOCKER_HOST: _none, ...withDocker} = env
    const loaded = await cms(['image', 'load', '-n', K8S, BUSYBOX], withDocker, {timeoutMs: 300_000})
    expect(loaded.code, loaded.stderr).toBe(0)
    await waitUntil('the default service account', async () => (await kubectl('get', 'serviceaccount', 'default', '-o', 'name').catch(() => '')) === 'serviceaccount/default', 60_000)
    const worker = (await clusterInstances(K8S)).find((i) => i.config['user.cms.role'] === 'worker')!
    const pod = await runPinnedPod(kubectl, {node: worker.name, image: BUSYBOX, script: 'nslookup kubernetes.default.svc.cluster.local >/dev/null && echo hello from $(hostname)'})
    expect(pod.phase).toBe('Succeeded')
    expect([pod.nodeName, pod.hostIP]).toEqual([worker.name, addressOf(worker)])
    expect(pod.logs).toBe('hello from hello')
    expect(watched()).toEqual(before)
  })

  it('kill deletes both instances and the key', async () => {
    tunnel?.child.kill('SIGINT')
    await tunnel?.done
    tunnel = undefined
    const r = await cms(['cluster', 'kill', '-n', K8S, '--yes'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(await clusterInstances(K8S)).toEqual([])
    expect(existsSync(join(home, 'keys', K8S))).toBe(false)
  })
})
