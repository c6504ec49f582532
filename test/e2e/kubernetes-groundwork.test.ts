import {execFile, spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {createReadStream, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {request} from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createClusterAuthorities, issueControlPlaneCertificates, issueNodeCertificates} from '../../src/engines/kubernetes/cluster-pki.js'
import {apiServerArgs, controllerManagerArgs, etcdArgs, schedulerArgs} from '../../src/engines/kubernetes/control-plane.js'
import {COREDNS_IMAGE, renderCoreDnsManifests} from '../../src/engines/kubernetes/coredns.js'
import {mergeKubeconfig, renderKubeconfig} from '../../src/engines/kubernetes/kubeconfig.js'
import {kubernetesLayout} from '../../src/engines/kubernetes/layout.js'
import {parsePrerequisites, prerequisitesScript} from '../../src/engines/kubernetes/prerequisites.js'
import {clusterDnsAddress, DEFAULT_SERVICE_CIDR, nodePodCidr} from '../../src/engines/kubernetes/network.js'
import {kubeletArgs, kubeProxyArgs} from '../../src/engines/kubernetes/node-config.js'
import {kubernetesContainerNeeds, SHADOWED_SYSCTLS} from '../../src/engines/kubernetes/node-container.js'
import {controlPlaneFiles, nodeFiles} from '../../src/engines/kubernetes/node-files.js'
import {importBinaryImageScript, importPauseImageScript} from '../../src/engines/kubernetes/pause-image.js'
import {podNetworkScript} from '../../src/engines/kubernetes/pod-network.js'
import {cleanupScript, leftoverScript, prepareDirsScript, startComponentScript, type Component} from '../../src/engines/kubernetes/scripts.js'
import {DockerProvider} from '../../src/providers/docker.js'
import {KnownHosts} from '../../src/remote/known-hosts.js'
import {tarArchive} from '../../src/providers/tar.js'
import {docker} from './helpers.js'

/**
 * The Kubernetes groundwork against a real Kubernetes (before the engine exists): the docker provider makes two
 * hosts with the ContainerNeeds the engine will declare (images/k8s-host, never privileged), every file is rendered
 * by src/engines/kubernetes, the start scripts run in the containers. Asserts on the API server's and the nodes' own
 * answers. Needs the binaries: `eval "$(bash scripts/k8s-dist.sh)"` (a ~15 min build once); skipped without
 * CMS_K8S_DIST. CMS_E2E_K8S_CLUSTER names the cluster (its containers are cms-NAME-1, cms-NAME-2); with
 * CMS_COREDNS_DIST (scripts/coredns-dist.sh) it also runs cluster DNS and resolves a service by name.
 */
const DIST = process.env.CMS_K8S_DIST
/** CoreDNS (scripts/coredns-dist.sh): with it, the cluster gets DNS and a test resolves a service by name. */
const COREDNS_DIST = process.env.CMS_COREDNS_DIST
const COREDNS_VERSION = process.env.CMS_COREDNS_VERSION ?? '1.12.4'
const CLUSTER = process.env.CMS_E2E_K8S_CLUSTER ?? 'e2e-k8sgw'
const NODES: string[] = []
const BIN = '/opt/k8s/bin'
const BUSYBOX = `cms-${CLUSTER}-busybox:test`
const run = promisify(execFile)
const layout = kubernetesLayout('/root', CLUSTER)
const kubectlArgs = [`${BIN}/kubectl`, '--kubeconfig', layout.files.adminKubeconfig, '--cache-dir', '/var/tmp/kubectl-cache']

/** Kernel settings the kubelet and kube-proxy would change if they reached the machine's own. */
const WATCHED = [
  ...SHADOWED_SYSCTLS.map((s) => s.path),
  '/proc/sys/net/netfilter/nf_conntrack_max',
  '/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established',
  '/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_close_wait',
  '/sys/module/nf_conntrack/parameters/hashsize',
]
const machineSettings = () => WATCHED.map((p) => `${p}=${(() => { try { return readFileSync(p, 'utf8').trim() } catch { return '-' } })()}`)

async function exec(node: string, script: string, timeoutMs = 120_000): Promise<string> {
  const {stdout} = await run('docker', ['exec', node, 'bash', '-c', script], {maxBuffer: 16 << 20, timeout: timeoutMs})
  return stdout.trim()
}

/** Streams a file or buffer into `docker exec -i NODE ...` (docker cp cannot write under the node's tmpfs mounts). */
function pipeInto(node: string, command: string[], input: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['exec', '-i', node, ...command], {stdio: ['pipe', 'ignore', 'pipe']})
    let err = ''
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command.join(' ')} on ${node}: ${err}`))))
    if (typeof input === 'string') createReadStream(input).pipe(child.stdin)
    else child.stdin.end(input)
  })
}

const kubectl = (...args: string[]) => exec(NODES[0]!, kubectlArgs.concat(args).map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '))

describe.skipIf(!DIST)('Kubernetes groundwork on two node containers', () => {
  const before = machineSettings()
  const addresses: string[] = []
  const work = mkdtempSync(join(tmpdir(), 'cms-k8sgw-'))
  const home = mkdtempSync(join(tmpdir(), 'cms-k8sgw-home-'))
  const savedHome = process.env.CMS_HOME
  process.env.CMS_HOME = home
  const provider = new DockerProvider(new KnownHosts({ownFile: join(home, 'known_hosts')}), () => {})
  let readySeconds = 0

  beforeAll(async () => {
    await provider.destroy(CLUSTER)
    // A test image with no registry: Debian's static busybox in a scratch image.
    writeFileSync(
      join(work, 'Dockerfile'),
      [
        'FROM debian:bookworm-slim AS bb',
        'RUN apt-get update && apt-get install -y --no-install-recommends busybox-static && mkdir -p /out/bin /out/tmp && cp /bin/busybox /out/bin/ && for c in sh cat sleep nc hostname httpd nslookup; do ln -s busybox /out/bin/$c; done',
        'FROM scratch',
        'COPY --from=bb /out/ /',
        'ENV PATH=/bin',
      ].join('\n'),
    )
    await docker('build', '-q', '-t', BUSYBOX, work)
    await docker('save', '-o', join(work, 'busybox.tar'), BUSYBOX)

    const hosts = await provider.provision(CLUSTER, {engine: 'kubernetes', containerNeeds: kubernetesContainerNeeds(), existing: [], total: 2})
    for (const h of hosts) {
      NODES.push(h.id)
      addresses.push(h.privateAddress!)
    }
    for (const n of NODES) {
      await exec(n, `mkdir -p ${BIN}`)
      await pipeInto(n, ['tar', '-xzf', '-', '-C', BIN.replace(/\/bin$/, '')], DIST!)
      await pipeInto(n, ['sh', '-c', 'cat > /var/tmp/busybox.tar'], join(work, 'busybox.tar'))
      if (COREDNS_DIST) await pipeInto(n, ['tar', '-xzf', '-', '-C', BIN], COREDNS_DIST)
    }

    const auth = createClusterAuthorities()
    const [head, headAddress] = [NODES[0]!, addresses[0]!]
    const certs = issueControlPlaneCertificates(auth, {headAddress, headName: head})
    const id = {cluster: CLUSTER, headAddress, caPem: auth.ca.certificatePem}
    const cp = {layout, headAddress, headName: head, binDir: BIN}
    const nodes = NODES.map((name, i) => ({name, address: addresses[i]!, podCidr: nodePodCidr('10.244.0.0/16', i + 1)}))
    const start = (c: Component, argv: string[]) => `(\n${startComponentScript(layout, c, argv, createHash('sha256').update(argv.join('\0')).digest('hex').slice(0, 16))}\n)`
    const scripts = nodes.map((node, i) => {
      const kubelet = {layout, nodeName: node.name, nodeAddress: node.address, binDir: BIN, labels: {'cms.cluster': CLUSTER}, clusterDns: [clusterDnsAddress(DEFAULT_SERVICE_CIDR)]}
      const files = [
        ...(i === 0 ? controlPlaneFiles(layout, id, auth, certs) : []),
        ...nodeFiles(id, {kubelet, nodePodCidr: node.podCidr, certificates: issueNodeCertificates(auth.ca, node), kubeProxy: certs.kubeProxy}),
      ]
      const peers = nodes.filter((p) => p !== node)
      return {
        tar: tarArchive(files.map((f) => ({path: f.path.slice(1), content: f.content, mode: f.mode}))),
        script: [
          'set -e',
          start('containerd', ['/usr/bin/containerd', '--config', layout.containerdConfig]),
          `for _ in $(seq 1 40); do [ -S ${layout.containerdSocket} ] && break; sleep 0.25; done`,
          `(\n${importPauseImageScript({socket: layout.containerdSocket})}\n)`,
          `ctr --address ${layout.containerdSocket} -n k8s.io images import /var/tmp/busybox.tar >/dev/null`,
          ...(COREDNS_DIST ? [`(\n${importBinaryImageScript({binary: `${BIN}/coredns`, name: 'coredns', ref: COREDNS_IMAGE(COREDNS_VERSION), socket: layout.containerdSocket})}\n)`] : []),
          ...(i === 0
            ? [
                start('etcd', etcdArgs(cp)),
                start('kube-apiserver', apiServerArgs(cp)),
                `for _ in $(seq 1 120); do ${kubectlArgs.join(' ')} get --raw /readyz >/dev/null 2>&1 && break; sleep 0.5; done`,
                start('kube-controller-manager', controllerManagerArgs(cp)),
                start('kube-scheduler', schedulerArgs(cp)),
              ]
            : []),
          `(\n${podNetworkScript({nodePodCidr: node.podCidr, peers})}\n)`,
          start('kubelet', kubeletArgs(kubelet)),
          start('kube-proxy', kubeProxyArgs(kubelet)),
        ].join('\n'),
      }
    })
    for (const [i, n] of NODES.entries()) {
      await exec(n, prepareDirsScript(layout))
      await pipeInto(n, ['tar', '-xf', '-', '-C', '/', '--no-same-owner'], scripts[i]!.tar)
    }
    const started = Date.now()
    await Promise.all(NODES.map((n, i) => exec(n, scripts[i]!.script, 300_000)))
    await kubectl('wait', '--for=condition=Ready', 'node', '--all', '--timeout=120s')
    readySeconds = (Date.now() - started) / 1000
    // Pods are refused until the service account controller has made `default`.
    await exec(NODES[0]!, `for _ in $(seq 1 60); do ${kubectlArgs.join(' ')} get sa default >/dev/null 2>&1 && break; sleep 0.5; done`)
  })

  afterAll(async () => {
    await provider.destroy(CLUSTER)
    await docker('rmi', BUSYBOX).catch(() => '')
    rmSync(work, {recursive: true, force: true})
    rmSync(home, {recursive: true, force: true})
    if (savedHome === undefined) delete process.env.CMS_HOME
    else process.env.CMS_HOME = savedHome
  })

  it('runs its node containers unprivileged, with the options the engine declares', async () => {
    const [c] = JSON.parse(await docker('inspect', NODES[0]!)) as Array<{Config: {Image: string}; HostConfig: Record<string, unknown>; Mounts: Array<{Type: string; Destination: string}>}>
    expect(c!.Config.Image).toMatch(/^cms-k8s-host:[0-9a-f]{12}$/)
    expect(c!.HostConfig).toMatchObject({Privileged: false, CapAdd: ['ALL'], CapDrop: ['SYS_RESOURCE'], CgroupnsMode: 'private', Init: true})
    expect(c!.Mounts.filter((m) => m.Type === 'volume').map((m) => m.Destination)).toEqual(['/var'])
    // The entrypoint shadowed the kubelet's sysctls: the node shows the kubelet's values, the machine its own.
    expect(await exec(NODES[0]!, `cat ${SHADOWED_SYSCTLS.map((s) => s.path).join(' ')}`)).toBe(SHADOWED_SYSCTLS.map((s) => s.value).join('\n'))
    // The image has everything cms does not ship.
    expect(parsePrerequisites(await exec(NODES[0]!, prerequisitesScript({head: true})))).toEqual({missing: [], cniBinDir: '/usr/lib/cni'})
  })

  it('has both nodes Ready at v1.34.2 with their private addresses, soon after start', async () => {
    const nodes = JSON.parse(await kubectl('get', 'nodes', '-o', 'json')).items as Array<{
      metadata: {name: string}
      status: {nodeInfo: {kubeletVersion: string; containerRuntimeVersion: string}; addresses: Array<{type: string; address: string}>}
    }>
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual([...NODES].sort())
    for (const n of nodes) {
      expect(n.status.nodeInfo.kubeletVersion).toBe('v1.34.2')
      expect(n.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.6\./)
      expect(addresses).toContain(n.status.addresses.find((a) => a.type === 'InternalIP')?.address)
    }
    expect(await kubectl('get', '--raw', '/readyz')).toBe('ok')
    expect(readySeconds).toBeLessThan(120)
    console.log(`both nodes Ready ${readySeconds.toFixed(1)} s after the start scripts began`)
  })

  it("reaches the API with cms's kubeconfig merged into someone else's", async () => {
    const parsed = JSON.parse(await kubectl('config', 'view', '--raw', '-o', 'json')) as {
      clusters: Array<{cluster: {'certificate-authority-data': string; server: string}}>
      users: Array<{user: {'client-certificate-data': string; 'client-key-data': string}}>
    }
    const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8')
    const ours = renderKubeconfig({
      clusterName: `cms-${CLUSTER}`,
      server: parsed.clusters[0]!.cluster.server,
      caPem: b64(parsed.clusters[0]!.cluster['certificate-authority-data']),
      userName: `cms-${CLUSTER}`,
      contextName: `cms-${CLUSTER}`,
      clientCertificatePem: b64(parsed.users[0]!.user['client-certificate-data']),
      clientKeyPem: b64(parsed.users[0]!.user['client-key-data']),
    })
    const theirs = 'apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster: {server: "https://192.0.2.1:6443"}\nusers:\n- name: other\n  user: {token: x}\ncontexts:\n- name: other\n  context: {cluster: other, user: other}\ncurrent-context: other\n'
    await pipeInto(NODES[0]!, ['sh', '-c', 'umask 077 && cat > /var/tmp/merged.kubeconfig'], Buffer.from(mergeKubeconfig(theirs, ours)))
    const k = `${BIN}/kubectl --kubeconfig /var/tmp/merged.kubeconfig --cache-dir /var/tmp/kubectl-cache`
    expect((await exec(NODES[0]!, `${k} config get-contexts -o name`)).split('\n').sort()).toEqual([`cms-${CLUSTER}`, 'other'])
    expect((await exec(NODES[0]!, `${k} get nodes -o name`)).split('\n').sort()).toEqual(NODES.map((n) => `node/${n}`).sort())
    await exec(NODES[0]!, 'rm -f /var/tmp/merged.kubeconfig')
  })

  it('refuses callers without a client certificate, and listens on the private address only', async () => {
    const status = (port: number, path: string) =>
      new Promise<number>((resolve, reject) => {
        // Our own container; the point is the status without a client certificate, not the server's identity.
        const req = request({host: addresses[0], port, path, rejectUnauthorized: false, timeout: 10_000}, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end()
      })
    expect(await status(6443, '/readyz')).toBe(401)
    expect(await status(10250, '/pods')).toBe(401)
    const listening = await exec(NODES[0]!, "ss -Hltn | awk '{print $4}'")
    for (const port of ['6443', '10250']) expect(listening.split('\n').filter((a) => a.endsWith(`:${port}`))).toEqual([`${addresses[0]}:${port}`])
    for (const port of ['12379', '12380', '10257', '10259', '10248']) expect(listening.split('\n').filter((a) => a.endsWith(`:${port}`))).toEqual([`127.0.0.1:${port}`])
  })

  it('runs a Job to completion, shows its logs, and carries pod traffic across nodes directly and through a service', async () => {
    const manifest = [
      'apiVersion: batch/v1',
      'kind: Job',
      'metadata: {name: hello}',
      'spec:',
      '  backoffLimit: 0',
      '  template:',
      '    spec:',
      '      restartPolicy: Never',
      `      containers: [{name: hello, image: "${BUSYBOX}", command: ["/bin/sh", "-c", "echo job-ran-on $(hostname)"]}]`,
      '---',
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: web, labels: {app: web}}',
      'spec:',
      `  nodeName: ${NODES[1]}`,
      `  containers: [{name: web, image: "${BUSYBOX}", command: ["/bin/sh", "-c", "echo hello-from-$(hostname) > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]}]`,
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: web}',
      'spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}',
      '---',
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: client}',
      'spec:',
      `  nodeName: ${NODES[0]}`,
      `  containers: [{name: c, image: "${BUSYBOX}", command: ["/bin/sleep", "3600"]}]`,
    ].join('\n')
    await pipeInto(NODES[0]!, ['sh', '-c', 'cat > /var/tmp/manifest.yaml'], Buffer.from(manifest))
    await kubectl('apply', '-f', '/var/tmp/manifest.yaml')
    await kubectl('wait', '--for=condition=complete', 'job/hello', '--timeout=120s')
    expect(await kubectl('logs', 'job/hello')).toMatch(/^job-ran-on hello-/)
    await kubectl('wait', '--for=condition=Ready', 'pod/web', 'pod/client', '--timeout=120s')
    const podIp = await kubectl('get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}')
    const serviceIp = await kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}')
    const get = (host: string, port: number) => kubectl('exec', 'client', '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${host} ${port} | tail -n 1`)
    expect(await get(podIp, 8080)).toBe('hello-from-web')
    expect(await get(serviceIp, 80)).toBe('hello-from-web')
  })

  it.skipIf(!COREDNS_DIST)('resolves services by name through CoreDNS', async () => {
    const manifests = renderCoreDnsManifests({image: COREDNS_IMAGE(COREDNS_VERSION), serviceIp: clusterDnsAddress(DEFAULT_SERVICE_CIDR)})
    await pipeInto(NODES[0]!, ['sh', '-c', 'cat > /var/tmp/coredns.yaml'], Buffer.from(manifests))
    await kubectl('apply', '-f', '/var/tmp/coredns.yaml')
    await kubectl('-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=120s')
    const serviceIp = await kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}')
    // kube-proxy programs the kube-dns service within about a second of CoreDNS being ready: a few tries.
    const lookup = (name: string) => kubectl('exec', 'client', '--', 'sh', '-c', `for i in 1 2 3 4 5 6 7 8 9 10; do nslookup ${name} && exit 0; sleep 1; done; exit 1`)
    expect(await lookup('web.default.svc.cluster.local')).toContain(serviceIp)
    expect(await lookup('kubernetes.default.svc.cluster.local')).toContain('10.96.0.1')
  })

  it("leaves the machine's kernel settings as they were", () => {
    expect(machineSettings()).toEqual(before)
  })

  it('cleans every host so that nothing of the cluster is left', async () => {
    const cleanup = cleanupScript(layout, {home: '/root', binDir: BIN})
    const counts = async (n: string) => Object.fromEntries((await exec(n, leftoverScript(layout))).split('\n').map((l) => l.split(' ')))
    expect(Number((await counts(NODES[1]!)).processes)).toBeGreaterThan(0)
    for (const n of [...NODES].reverse()) {
      const started = Date.now()
      await exec(n, cleanup, 120_000)
      console.log(`cleanup of ${n}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
      const left = await counts(n)
      expect(left, n).toEqual({processes: '0', mounts: '0', netns: '0', bridge: '0', iptables: '0', cgroups: '0', folders: '0', files: '0'})
    }
    expect(machineSettings()).toEqual(before)
  })
})
