import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {request} from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {SHADOWED_SYSCTLS} from '../../src/engines/kubernetes/node-container.js'
import {buildBusyboxImage, cms, docker, labelledContainers, makeCmsHome, removeClusterContainers, startCms, waitUntil} from './helpers.js'
import {kubernetesJobCases} from './kubernetes-jobs.cases.js'

/**
 * The Kubernetes engine end to end on docker container hosts: `cms cluster create -e kubernetes` over SSH, then every
 * assertion on what the Kubernetes API itself reports (kubectl from the cluster's own build, through
 * `cms cluster tunnel` and the kubeconfig `cms cluster kubeconfig` wrote), on container labels and on the nodes.
 * Needs the testbed's Kubernetes and CoreDNS builds (CMS_K8S_DIST, CMS_COREDNS_DIST from scripts/test.sh).
 */
const NAME = process.env.CMS_E2E_K8S_NAME ?? 'e2e-k8s'
const K8S_DIST = process.env.CMS_K8S_DIST
const BUSYBOX = `cms-e2e-busybox:${NAME}`
const run = promisify(execFile)

/** Kernel settings of this machine the kubelet and kube-proxy would change if they reached them. */
const WATCHED = [...SHADOWED_SYSCTLS.map((s) => s.path), '/proc/sys/net/netfilter/nf_conntrack_max']
const machineSettings = () => WATCHED.map((p) => `${p}=${(() => { try { return readFileSync(p, 'utf8').trim() } catch { return '-' } })()}`)

interface KubeNode {
  metadata: {name: string; labels: Record<string, string>}
  spec: {podCIDR?: string; unschedulable?: boolean}
  status: {conditions: Array<{type: string; status: string}>; addresses: Array<{type: string; address: string}>; nodeInfo: {kubeletVersion: string}}
}

interface KubePod {
  metadata: {name: string; labels?: Record<string, string>}
  spec: {nodeName?: string}
  status: {phase: string; podIP?: string}
}

describe.skipIf(!K8S_DIST)('kubernetes engine on docker hosts', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  const work = mkdtempSync(join(tmpdir(), 'cms-e2e-k8s-'))
  const kubeconfig = join(work, 'kubeconfig')
  const before = machineSettings()
  let tunnel: ReturnType<typeof startCms> | undefined
  let kubectlBin = ''
  let createSeconds = 0

  const kubectl = async (...args: string[]): Promise<string> => {
    const {stdout} = await run(kubectlBin, ['--kubeconfig', kubeconfig, '--cache-dir', join(work, 'cache'), ...args], {maxBuffer: 16 << 20, timeout: 180_000})
    return stdout.trim()
  }
  const nodes = async () => (JSON.parse(await kubectl('get', 'nodes', '-o', 'json')) as {items: KubeNode[]}).items
  const pods = async (selector: string) => (JSON.parse(await kubectl('get', 'pods', '-l', selector, '-o', 'json')) as {items: KubePod[]}).items
  const ready = (n: KubeNode) => n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True')
  const apply = async (manifest: string) => {
    const file = join(work, `manifest-${Date.now()}.yaml`)
    writeFileSync(file, manifest)
    return kubectl('apply', '-f', file)
  }

  beforeAll(async () => {
    await removeClusterContainers(NAME)
    await run('tar', ['-xzf', K8S_DIST!, '-C', work, 'bin/kubectl'])
    kubectlBin = join(work, 'bin', 'kubectl')
    const started = Date.now()
    const r = await cms(['cluster', 'create', '-n', NAME, '-e', 'kubernetes', '--hosts', '3', '--json'], env, {timeoutMs: 900_000})
    createSeconds = (Date.now() - started) / 1000
    expect(r.code, r.stderr).toBe(0)
    const k = await cms(['cluster', 'kubeconfig', '-n', NAME, '--file', kubeconfig], env)
    expect(k.code, k.stderr).toBe(0)
    tunnel = startCms(['cluster', 'tunnel', '-n', NAME], env)
    await waitUntil('the tunnel', async () => (await kubectl('get', '--raw', '/readyz')) === 'ok', 60_000)
    await buildBusyboxImage(BUSYBOX)
    const loaded = await cms(['image', 'load', '-n', NAME, BUSYBOX], env, {timeoutMs: 300_000})
    expect(loaded.code, loaded.stderr).toBe(0)
  }, 1_200_000)

  afterAll(async () => {
    tunnel?.child.kill('SIGINT')
    await tunnel?.done
    await cms(['cluster', 'kill', '-n', NAME, '--yes'], env).catch(() => undefined)
    await removeClusterContainers(NAME)
    await docker('rmi', BUSYBOX).catch(() => '')
    rmSync(work, {recursive: true, force: true})
    cleanup()
  })

  it('has 3 Ready nodes at the private addresses of its unprivileged containers, each with its own pod range', async () => {
    const containers = await labelledContainers(NAME)
    expect(containers.map((c) => c.role).sort()).toEqual(['head', 'worker', 'worker'])
    const items = await nodes()
    expect(items.map((n) => n.metadata.name).sort()).toEqual(containers.map((c) => c.name).sort())
    for (const n of items) {
      expect(ready(n), n.metadata.name).toBe(true)
      expect(n.status.nodeInfo.kubeletVersion).toBe('v1.34.2')
      const ip = n.status.addresses.find((a) => a.type === 'InternalIP')?.address
      expect(ip).toBe(containers.find((c) => c.name === n.metadata.name)?.ip)
      expect(n.metadata.labels['cms.cluster']).toBe(NAME)
    }
    expect(new Set(items.map((n) => n.spec.podCIDR)).size).toBe(3)
    expect(await kubectl('get', '--raw', '/readyz')).toBe('ok')
    const [inspected] = JSON.parse(await docker('inspect', containers[0]!.name)) as Array<{HostConfig: {Privileged: boolean; CapDrop: string[]}; Config: {Labels: Record<string, string>}}>
    expect(inspected!.HostConfig.Privileged).toBe(false)
    expect(inspected!.HostConfig.CapDrop).toContain('SYS_RESOURCE')
    expect(inspected!.Config.Labels['cms.engine']).toBe('kubernetes')
    console.log(`create -e kubernetes, 3 hosts: ${createSeconds.toFixed(1)} s to every node Ready`)
  })

  it('create again is a no-op: the same nodes, no component restarted', async () => {
    const head = (await labelledContainers(NAME)).find((c) => c.role === 'head')!
    const pids = () => docker('exec', head.name, 'sh', '-c', `cat /root/.cms/clusters/${NAME}/kubernetes/run/*.pid`)
    const before = await pids()
    const r = await cms(['cluster', 'create', '-n', NAME, '-e', 'kubernetes', '--hosts', '3', '--json'], env, {timeoutMs: 600_000})
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).transfer.uploadedBytes).toBe(0)
    expect(await pids()).toBe(before)
    expect((await nodes()).filter(ready)).toHaveLength(3)
  })

  it('submit --wait runs a Job manifest to completion (its logs through cms), fails on a failing one, refuses a bad one', async () => {
    const job = (name: string, script: string, extra = '') =>
      [
        'apiVersion: batch/v1',
        'kind: Job',
        `metadata: {name: ${name}}`,
        'spec:',
        '  backoffLimit: 0',
        `  template: {spec: {restartPolicy: Never, terminationGracePeriodSeconds: 1, containers: [{name: main, image: "${BUSYBOX}", imagePullPolicy: Never, command: ["/bin/sh", "-c", "${script}"]${extra}}]}}`,
      ].join('\n')
    const file = (name: string, text: string) => {
      const path = join(work, name)
      writeFileSync(path, text)
      return path
    }
    const ok = await cms(['cluster', 'submit', '-n', NAME, file('ok.yaml', job('cli-ok', 'echo done-on-$(hostname)')), '--wait'], env)
    expect(ok.code, ok.stderr).toBe(0)
    const status = JSON.parse(await kubectl('get', 'job', 'cli-ok', '-o', 'json')) as {status: {succeeded?: number}}
    expect(status.status.succeeded).toBe(1)
    const logs = await cms(['job', 'logs', '-n', NAME, 'default/cli-ok'], env)
    expect(logs.stdout).toMatch(/^done-on-cli-ok-/m)
    const failing = await cms(['cluster', 'submit', '-n', NAME, file('fail.yaml', job('cli-fail', 'exit 3')), '--wait'], env)
    expect(failing.code).toBe(1)
    expect(JSON.parse(await kubectl('get', 'job', 'cli-fail', '-o', 'json')).status.failed).toBe(1)
    // The API server's own validation refuses a negative parallelism: exit 2, and nothing of the file is applied.
    const bad = file('bad.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cli-bad-companion}\ndata: {a: b}\n---\n${job('cli-bad', 'true').replace('  backoffLimit: 0', '  parallelism: -1')}`)
    const refused = await cms(['cluster', 'submit', '-n', NAME, bad, '--wait'], env)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/bad\.yaml.*Job default\/cli-bad.*parallelism/s)
    expect(await kubectl('get', 'configmap', 'cli-bad-companion', '--ignore-not-found', '-o', 'name')).toBe('')
    expect(await kubectl('get', 'job', 'cli-bad', '--ignore-not-found', '-o', 'name')).toBe('')
    await kubectl('delete', 'job', 'cli-ok', 'cli-fail', '--wait=false')
  })

  it('writes the kubeconfig 0600 as a context of its own, and kubectl reaches the API through the tunnel', async () => {
    expect(statSync(kubeconfig).mode & 0o777).toBe(0o600)
    expect((await kubectl('config', 'get-contexts', '-o', 'name')).split('\n')).toEqual([`cms-${NAME}`])
    expect(await kubectl('auth', 'can-i', 'create', 'pods')).toBe('yes')
    const r = await cms(['cluster', 'kubeconfig', '-n', NAME, '--file', kubeconfig, '--json'], env)
    expect(JSON.parse(r.stdout)).toMatchObject({context: `cms-${NAME}`, merged: true})
    expect(r.stdout + r.stderr).not.toContain('PRIVATE KEY')
  })

  it('attach registers the cluster by a kubeconfig as if cms had not made it: submit, job list, info, list work; kill is refused; detach forgets it', async () => {
    const att = `${NAME}-att`.slice(0, 32)
    const accessFile = join(home, 'access', `${att}.json`)
    const bad = await cms(['cluster', 'attach', '-n', att, '--kubeconfig', kubeconfig, '--context', 'no-such-context'], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/no context "no-such-context"/)
    expect(existsSync(accessFile)).toBe(false)
    const r = await cms(['cluster', 'attach', '-n', att, '--kubeconfig', kubeconfig, '--context', `cms-${NAME}`, '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(statSync(accessFile).mode & 0o777).toBe(0o600)
    const job = join(work, 'attached.yaml')
    writeFileSync(
      job,
      `apiVersion: batch/v1\nkind: Job\nmetadata: {name: attached-ok}\nspec:\n  backoffLimit: 0\n  template: {spec: {restartPolicy: Never, containers: [{name: main, image: "${BUSYBOX}", imagePullPolicy: Never, command: ["/bin/sh", "-c", "echo attached-done"]}]}}\n`,
    )
    const submitted = await cms(['cluster', 'submit', '-n', att, job, '--wait'], env)
    expect(submitted.code, submitted.stderr).toBe(0)
    expect(JSON.parse(await kubectl('get', 'job', 'attached-ok', '-o', 'json')).status.succeeded).toBe(1)
    const listed = JSON.parse((await cms(['job', 'list', '-n', att, '--json'], env)).stdout) as {jobs: Array<{id: string}>}
    expect(listed.jobs.map((j) => j.id)).toContain('default/attached-ok')
    expect((await cms(['job', 'logs', '-n', att, 'default/attached-ok'], env)).stdout.trim()).toBe('attached-done')
    const items = await nodes()
    const info = JSON.parse((await cms(['cluster', 'info', '-n', att, '--json'], env)).stdout)
    expect(info).toMatchObject({name: att, provider: 'attached', engine: 'kubernetes', kubernetes: {ready: true, readyNodes: items.filter(ready).length}})
    expect(info.hosts.map((h: {id: string}) => h.id).sort()).toEqual(items.map((n) => n.metadata.name).sort())
    const list = JSON.parse((await cms(['cluster', 'list', '--json'], env)).stdout)
    expect(list.clusters.find((c: {name: string}) => c.name === att)).toMatchObject({provider: 'attached', engine: 'kubernetes', masterStatus: 'READY'})
    for (const args of [['cluster', 'kill', '-n', att, '--yes'], ['cluster', 'remove', '-n', att, items[1]!.metadata.name]]) {
      const refused = await cms(args, env)
      expect(refused.code, args.join(' ')).toBe(2)
      expect(refused.stderr).toMatch(/cms did not make this cluster/)
    }
    expect((await nodes()).filter(ready)).toHaveLength(items.filter(ready).length)
    const detached = await cms(['cluster', 'detach', '-n', att], env)
    expect(detached.code, detached.stderr).toBe(0)
    expect(existsSync(accessFile)).toBe(false)
    expect((await cms(['cluster', 'info', '-n', att], env)).code).toBe(2)
    await kubectl('delete', 'job', 'attached-ok', '--wait=false')
  })

  it('serves the API on the private address only, and only to client certificates', async () => {
    const head = (await labelledContainers(NAME)).find((c) => c.role === 'head')!
    const status = (port: number, path: string) =>
      new Promise<number>((resolve, reject) => {
        // The test's own container; the point is the answer without a client certificate, not the server's identity.
        const req = request({host: head.ip, port, path, rejectUnauthorized: false, timeout: 10_000}, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end()
      })
    expect(await status(6443, '/readyz')).toBe(401)
    // The kubelet too answers no one without a certificate.
    expect(await status(10250, '/pods')).toBe(401)
    const listening = (await docker('exec', head.name, 'sh', '-c', "ss -Hltn | awk '{print $4}'")).split('\n')
    expect(listening.filter((a) => a.endsWith(':6443'))).toEqual([`${head.ip}:6443`])
    expect(listening.filter((a) => a.endsWith(':12379'))).toEqual(['127.0.0.1:12379'])
    // Nothing is published on this machine's own addresses.
    const [inspected] = JSON.parse(await docker('inspect', head.name)) as Array<{NetworkSettings: {Ports: Record<string, unknown>}}>
    expect(Object.values(inspected!.NetworkSettings.Ports ?? {}).filter(Boolean)).toEqual([])
  })

  it('carries pod traffic between nodes, by pod IP and by service name through cluster DNS', async () => {
    const workers = (await labelledContainers(NAME)).filter((c) => c.role === 'worker').map((c) => c.name).sort()
    await apply(
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: web, labels: {app: web}}',
        'spec:',
        `  nodeName: ${workers[0]}`,
        `  containers: [{name: web, image: "${BUSYBOX}", imagePullPolicy: Never, command: ["/bin/sh", "-c", "echo hello-from-$(hostname) > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]}]`,
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: {name: web}',
        'spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}',
        '---',
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: client, labels: {app: client}}',
        'spec:',
        `  nodeName: ${workers[1]}`,
        `  containers: [{name: c, image: "${BUSYBOX}", imagePullPolicy: Never, command: ["/bin/sleep", "3600"]}]`,
      ].join('\n'),
    )
    await kubectl('wait', '--for=condition=Ready', 'pod/web', 'pod/client', '--timeout=120s')
    const web = (await pods('app=web'))[0]!
    expect(web.spec.nodeName).not.toBe((await pods('app=client'))[0]!.spec.nodeName)
    // busybox's nc (its static wget crashes in a scratch image); a few tries while kube-proxy programs the service.
    const get = (host: string, port: number) =>
      kubectl('exec', 'client', '--', 'sh', '-c', `for i in 1 2 3 4 5 6 7 8 9 10; do r=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${host} ${port} | tail -n 1); [ -n "$r" ] && echo "$r" && exit 0; sleep 1; done; exit 1`)
    expect(await get(web.status.podIP!, 8080)).toBe('hello-from-web')
    expect(await get('web.default.svc.cluster.local', 80)).toBe('hello-from-web')
    await kubectl('delete', 'pod', 'web', 'client', '--grace-period=0', '--force', '--wait=false')
  })

  // Jobs through the API (manifests, specs, logs, kill, rerun) on this cluster, while it has its 3 nodes.
  kubernetesJobCases({kubeconfig, image: BUSYBOX})

  it("binds a plain StatefulSet's claim through the default local-path StorageClass, on a node's disk; deleting the claim removes the data", async () => {
    await apply(
      [
        'apiVersion: apps/v1',
        'kind: StatefulSet',
        'metadata: {name: keeper}',
        'spec:',
        '  replicas: 1',
        '  serviceName: keeper',
        '  selector: {matchLabels: {app: keeper}}',
        '  template:',
        '    metadata: {labels: {app: keeper}}',
        '    spec:',
        '      terminationGracePeriodSeconds: 1',
        `      containers: [{name: c, image: "${BUSYBOX}", imagePullPolicy: Never, command: ["/bin/sh", "-c", "echo kept-by-$(hostname) > /data/note.txt; exec sleep 3600"], volumeMounts: [{name: data, mountPath: /data}]}]`,
        '  volumeClaimTemplates:',
        '    - metadata: {name: data}',
        '      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 16Mi}}}',
      ].join('\n'),
    )
    await kubectl('rollout', 'status', 'statefulset/keeper', '--timeout=180s')
    const pvc = JSON.parse(await kubectl('get', 'pvc', 'data-keeper-0', '-o', 'json')) as {status: {phase: string}; spec: {storageClassName: string; volumeName: string}}
    expect(pvc.status.phase).toBe('Bound')
    expect(pvc.spec.storageClassName).toBe('local-path')
    const pv = JSON.parse(await kubectl('get', 'pv', pvc.spec.volumeName, '-o', 'json')) as {spec: {hostPath?: {path: string}; local?: {path: string}}}
    const path = pv.spec.hostPath?.path ?? pv.spec.local?.path ?? ''
    expect(path.startsWith(`/var/lib/cms/${NAME}/volumes/`), path).toBe(true)
    const node = (await pods('app=keeper'))[0]!.spec.nodeName!
    expect(await docker('exec', node, 'cat', `${path}/note.txt`)).toBe('kept-by-keeper-0')
    await kubectl('delete', 'statefulset', 'keeper', '--wait=true', '--timeout=120s')
    await kubectl('delete', 'pvc', 'data-keeper-0', '--wait=true', '--timeout=120s')
    await waitUntil('the volume folder removed', async () => (await docker('exec', node, 'sh', '-c', `test -e ${path} && echo there || echo gone`)) === 'gone', 120_000)
  })

  it('remove drains a node through the Eviction API: its pod runs again elsewhere, the Node is gone', async () => {
    const victim = (await labelledContainers(NAME)).filter((c) => c.role === 'worker').map((c) => c.name).sort()[1]!
    await apply(
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: mover}',
        'spec:',
        '  replicas: 1',
        '  selector: {matchLabels: {app: mover}}',
        '  template:',
        '    metadata: {labels: {app: mover}}',
        '    spec:',
        `      affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 100, preference: {matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: ["${victim}"]}]}}]}}`,
        `      terminationGracePeriodSeconds: 1`,
        `      containers: [{name: c, image: "${BUSYBOX}", imagePullPolicy: Never, command: ["/bin/sleep", "3600"]}]`,
      ].join('\n'),
    )
    await kubectl('rollout', 'status', 'deployment/mover', '--timeout=120s')
    expect((await pods('app=mover'))[0]!.spec.nodeName).toBe(victim)
    const r = await cms(['cluster', 'remove', '-n', NAME, victim], env, {timeoutMs: 300_000})
    expect(r.code, r.stderr).toBe(0)
    expect((await nodes()).map((n) => n.metadata.name)).not.toContain(victim)
    await kubectl('rollout', 'status', 'deployment/mover', '--timeout=120s')
    const moved = (await pods('app=mover')).filter((p) => p.status.phase === 'Running')
    expect(moved).toHaveLength(1)
    expect(moved[0]!.spec.nodeName).not.toBe(victim)
    expect((await labelledContainers(NAME)).map((c) => c.name)).not.toContain(victim)
  })

  it('add joins a node that becomes Ready with a pod range of its own and every image cms loaded on the others', async () => {
    const known = new Set((await nodes()).map((n) => n.metadata.name))
    const r = await cms(['cluster', 'add', '-n', NAME, '--json'], env, {timeoutMs: 600_000})
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).transfer.uploadedBytes).toBe(0)
    const items = await nodes()
    expect(items).toHaveLength(3)
    expect(items.every(ready)).toBe(true)
    expect(new Set(items.map((n) => n.spec.podCIDR)).size).toBe(3)
    // The image 'cms image load' put on the other nodes was on the new one before it was Ready: a pod pinned there
    // with imagePullPolicy Never runs it.
    const added = items.map((n) => n.metadata.name).find((n) => !known.has(n))!
    expect((await labelledContainers(NAME)).map((c) => c.name)).toContain(added)
    const images = (JSON.parse(await kubectl('get', 'node', added, '-o', 'json')) as {status: {images: Array<{names: string[]}>}}).status.images
    expect(images.flatMap((i) => i.names)).toContain(`docker.io/library/${BUSYBOX}`)
    await apply(
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: on-added, labels: {app: on-added}}',
        'spec:',
        `  nodeName: ${added}`,
        '  restartPolicy: Never',
        `  containers: [{name: c, image: "${BUSYBOX}", imagePullPolicy: Never, command: ["/bin/sh", "-c", "echo ran-on-$(hostname)"]}]`,
      ].join('\n'),
    )
    await waitUntil('the pod on the added node', async () => (await pods('app=on-added'))[0]?.status.phase === 'Succeeded', 120_000)
    expect(await kubectl('logs', 'on-added')).toBe('ran-on-on-added')
    await kubectl('delete', 'pod', 'on-added', '--wait=false')
  })

  it("kill leaves no container, network or volume of the cluster, and this machine's kernel settings as they were", async () => {
    const volumes = async () => {
      const ids = (await docker('ps', '-aq', '--filter', `label=cms.cluster=${NAME}`)).split('\n').filter(Boolean)
      if (ids.length === 0) return []
      return (JSON.parse(await docker('inspect', ...ids)) as Array<{Mounts: Array<{Type: string; Name?: string}>}>).flatMap((c) => c.Mounts.filter((m) => m.Type === 'volume').map((m) => m.Name!))
    }
    const owned = await volumes()
    expect(owned.length).toBeGreaterThan(0)
    tunnel?.child.kill('SIGINT')
    await tunnel?.done
    tunnel = undefined
    const r = await cms(['cluster', 'kill', '-n', NAME, '--yes'], env, {timeoutMs: 300_000})
    expect(r.code, r.stderr).toBe(0)
    expect(await labelledContainers(NAME)).toEqual([])
    expect(await docker('network', 'ls', '-q', '--filter', `name=cms-${NAME}`)).toBe('')
    const left = (await docker('volume', 'ls', '-q')).split('\n')
    expect(owned.filter((v) => left.includes(v))).toEqual([])
    expect(machineSettings()).toEqual(before)
  })
})
