import {createHash} from 'node:crypto'
import type {NotebookServer} from '../../notebook/notebook-server.js'
import {parseAllDocuments} from 'yaml'
import type {JobOverrides} from '../../jobs/load.js'
import type {ClusterInfo, ClusterListEntry} from '../../output/results.js'
import type {Host} from '../../providers/provider.js'
import {UsageError} from '../../remote/errors.js'
import {hostFacts} from '../../remote/host-facts.js'
import {shq} from '../../remote/shell.js'
import type {Artifact} from '../artifact.js'
import {readManifest} from '../../cluster/manifest.js'
import {Deferred, waitFor} from '../coordination.js'
import type {AttachedEngine, ConvergeInput, ConvergeResult, DescribeInput, DrainInput, Endpoint, Engine, EnginePlan, HostOutcome, JobService, JobsInput, LoadedJob, LoadImageInput, LoadImageResult, PlanInput, NotebookInput} from '../engine.js'
import {HADOOP_PORTS, replicationFor} from '../hadoop/site-config.js'
import type {HostContext} from '../host-context.js'
import {issueCertificate, type KeyPairPem} from '../pki.js'
import {openClusterApi, type HeadAccess} from './api-access.js'
import type {ClusterApi} from './cluster-api.js'
import {createClusterAuthorities, IDENTITIES, issueControlPlaneCertificates, issueNodeCertificates, LEAF_VALIDITY_DAYS, type ClusterAuthorities} from './cluster-pki.js'
import {apiServerArgs, controllerManagerArgs, etcdArgs, schedulerArgs} from './control-plane.js'
import {COREDNS_IMAGE, renderCoreDnsManifests} from './coredns.js'
import {kubernetesClusterInfo} from './describe.js'
import {hdfsListFields} from '../hadoop/describe.js'
import {checkDataNodesLeft, hdfsWanted} from '../hadoop/hdfs-beside.js'
import {hdfsPods, namenodeInfo, startHdfs, withKubernetesHdfs} from './hdfs.js'
import {ImageDelivery} from './image-load.js'
import {LoadedImageDelivery} from './loaded-images.js'
import {
  checkCoreDnsDistSource,
  checkKubernetesDistSource,
  checkLocalPathDistSource,
  recordCoreDnsDist,
  recordedCoreDnsDist,
  recordedKubernetesDist,
  recordedLocalPathDist,
  recordKubernetesDist,
  recordLocalPathDist,
  resolveCoreDnsDist,
  resolveKubernetesDist,
  resolveLocalPathDist,
} from './dist.js'
import {kubeconfigCa, kubeconfigCredentials} from './kubeconfig.js'
import {kubernetesLayout, type KubernetesLayout} from './layout.js'
import {BUSYBOX_BINARY, LOCAL_PATH_HELPER_IMAGE, LOCAL_PATH_IMAGE, LOCAL_PATH_NAMESPACE, renderLocalPathManifests} from './local-path.js'
import {nodeNameFor} from './names.js'
import {clusterDnsAddress, DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR, KUBERNETES_PORTS} from './network.js'
import {kubeletArgs, kubeProxyArgs, type KubeletInput} from './node-config.js'
import {kubernetesContainerNeeds} from './node-container.js'
import {controlPlaneFiles, nodeFiles, type ClusterIdentity, type HostFile} from './node-files.js'
import {importBinaryImageScript, importPauseImageScript} from './pause-image.js'
import {podNetworkScript, renderCniConfig} from './pod-network.js'
import {describeMissing, parsePrerequisites, prerequisitesScript} from './prerequisites.js'
import {describeKernelSettings, kernelSettingsScript} from './kernel-settings.js'
import {containerHostScript, describeContainerHost} from './container-host.js'
import {cleanupScript, leftoverScript, prepareDirsScript, startComponentScript, stopComponentsScript, type Component} from './scripts.js'

const READY_TIMEOUT_MS = 180_000
/** HDFS's pods start after the nodes are Ready: a NameNode formats, DataNodes register (JVMs on busy hosts). */
const HDFS_TIMEOUT_MS = 300_000
/** etcd, containerd, runc and the CNI plugins come from the hosts' packages (cms's host image has them). */
const HOST_PACKAGES = ['curl', 'python3', 'tar', 'gzip', 'containerd', 'runc', 'containernetworking-plugins', 'iptables', 'iproute2', 'conntrack', 'catatonit', 'busybox-static', 'etcd-server']

interface HeadPki {
  ca: KeyPairPem
  headAddress: string
}

/**
 * Kubernetes, bootstrapped over SSH with no internet on the hosts: etcd and the control plane on the head, containerd
 * + kubelet + kube-proxy on every host (the head included), a bridge pod network routed between hosts, CoreDNS.
 * Every certificate comes from a per-cluster CA cms makes (kept on the head, 0600); Kubernetes itself assigns each
 * node its pod range, so cms keeps no state of its own.
 */
export class KubernetesEngine implements Engine {
  readonly name = 'kubernetes'
  readonly containerNeeds = kubernetesContainerNeeds()

  async plan(input: PlanInput): Promise<EnginePlan> {
    const {options, recorded} = input
    const pick = async (flag: string, fromSettings: Artifact | undefined, check: (s?: string) => string, resolve: (s: string, log: (l: string) => void) => Promise<Artifact>) => {
      const given = options[flag] as string | undefined
      return (!given && fromSettings) || (await resolve(check(given), input.log))
    }
    const k8s = await pick('k8s-dist', recorded && recordedKubernetesDist(recorded), checkKubernetesDistSource, resolveKubernetesDist)
    const coredns = await pick('coredns-dist', recorded && recordedCoreDnsDist(recorded), checkCoreDnsDistSource, resolveCoreDnsDist)
    const localPath = await pick('local-path-dist', recorded && recordedLocalPathDist(recorded), checkLocalPathDistSource, resolveLocalPathDist)
    const settings = {
      ...recordKubernetesDist(k8s),
      ...recordCoreDnsDist(coredns),
      ...recordLocalPathDist(localPath),
      podCidr: recorded?.podCidr ?? DEFAULT_POD_CIDR,
      serviceCidr: recorded?.serviceCidr ?? DEFAULT_SERVICE_CIDR,
      ...(await this.planHdfs(input)),
    }
    return {artifacts: [k8s, coredns, localPath], settings, hostPackages: HOST_PACKAGES}
  }

  /**
   * --hdfs: the Hadoop image, built here (cached by content) from the Hadoop runtime before any host is made, so a
   * missing runtime, base image or Docker engine stops create with nothing made; the nodes get it while they
   * converge. A cluster that has HDFS keeps the image it recorded unless --hadoop-dist names a runtime.
   */
  private async planHdfs(input: PlanInput): Promise<Record<string, string>> {
    const {options, recorded} = input
    if (!hdfsWanted(options, recorded)) return {}
    const given = options['hadoop-dist'] as string | undefined
    // Set once: a DataNode set that changes its replication restarts every DataNode.
    const replication = recorded?.replication ?? String(replicationFor(input.totalHosts))
    if (recorded?.hadoopImage && !given) return {hdfs: 'true', hadoopImage: recorded.hadoopImage, replication}
    const [{buildHadoopImage}, {checkHadoopDistSource}] = await Promise.all([import('../../images/hadoop-image.js'), import('../hadoop/dist.js')])
    const image = await buildHadoopImage({distSource: checkHadoopDistSource(given), log: input.log})
    input.log(`Hadoop image ${image.tag} ${image.built ? `built in ${image.seconds.toFixed(1)} s` : 'already built'}`)
    return {hdfs: 'true', hadoopImage: image.tag, replication}
  }

  async converge(input: ConvergeInput): Promise<ConvergeResult> {
    const {cluster, shipment, plan} = input
    const [k8sDist, corednsDist, localPathDist] = shipment.artifacts as [Artifact, Artifact, Artifact]
    const podCidr = plan.settings.podCidr ?? DEFAULT_POD_CIDR
    const serviceCidr = plan.settings.serviceCidr ?? DEFAULT_SERVICE_CIDR
    const head = input.hosts[0]!
    const pki = new Deferred<HeadPki>()
    const apiReady = new Deferred<ClusterApi>()
    let closeApi: (() => Promise<void>) | undefined
    const contexts = new Map<string, HostContext>()
    const versionOf = (a: Artifact) => (a.version && a.version !== 'unknown' ? a.version : a.id)
    const corednsImage = COREDNS_IMAGE(versionOf(corednsDist))
    const localPathImage = LOCAL_PATH_IMAGE(versionOf(localPathDist))
    const hadoopImage = plan.settings.hdfs === 'true' ? await this.hadoopImageArchive(plan.settings.hadoopImage, input.log) : undefined
    const imageDelivery = hadoopImage && new ImageDelivery(cluster, hadoopImage, input.hosts.length)
    const loadedImages = new LoadedImageDelivery(cluster)

    try {
      const outcomes = await input.perHost(async (host, report): Promise<HostOutcome> => {
        const isHead = host === head
        const index = input.hosts.indexOf(host)
        try {
          report.update('connecting')
          const ctx = await input.connect(host)
          contexts.set(host.id, ctx)
          const layout = kubernetesLayout(ctx.facts.home, cluster)
          report.update('checking prerequisites')
          const prerequisites = parsePrerequisites(await ctx.session.run(prerequisitesScript({head: isHead}), {label: 'check Kubernetes prerequisites'}))
          const missing = describeMissing(host.id, prerequisites)
          if (missing) throw new Error(missing)
          // A container host prepared first (the machine's own settings shadowed), then the pod network's settings.
          const kernelOutput = await ctx.session.run(`(\n${containerHostScript()}\n)\n(\n${kernelSettingsScript()}\n)`, {label: 'set the kernel settings of the pod network'})
          const kernel = describeContainerHost(host.id, kernelOutput) ?? describeKernelSettings(host.id, kernelOutput)
          if (kernel) throw new Error(kernel)
          const deliveries = await shipment.deliver(ctx, isHead, report)
          const binDir = `${await shipment.root(ctx, k8sDist)}/bin`
          const corednsBinary = `${await shipment.root(ctx, corednsDist)}/coredns`
          const localPathBinary = `${await shipment.root(ctx, localPathDist)}/local-path-provisioner`
          await ctx.session.run(prepareDirsScript(layout), {label: 'prepare Kubernetes folders'})
          const nodeName = nodeNameFor(host.id)
          if (isHead) pki.resolve(await this.headPki(ctx, layout, cluster, nodeName, serviceCidr))
          report.update(isHead ? 'configuring' : 'waiting for the head')
          const {ca, headAddress} = await pki.promise
          const id: ClusterIdentity = {cluster, headAddress, caPem: ca.certificatePem}
          const kubelet: KubeletInput = {
            layout,
            nodeName,
            nodeAddress: ctx.address,
            binDir,
            labels: {'cms.cluster': cluster, 'cms.role': host.role},
            clusterDns: [clusterDnsAddress(serviceCidr)],
          }
          const files = nodeFiles(id, {kubelet, podCidr, cniBinDir: prerequisites.cniBinDir, ...(await this.nodeCredentials(ctx, layout, ca, nodeName))})
          await writeFiles(ctx, files)
          const hash = configHash(files)

          report.update('starting containerd')
          await this.start(ctx, layout, 'containerd', ['/usr/bin/containerd', '--config', layout.containerdConfig], hash)
          await ctx.session.run(
            [
              `for _ in $(seq 1 60); do [ -S ${shq(layout.containerdSocket)} ] && break; sleep 0.25; done`,
              `(\n${importPauseImageScript({socket: layout.containerdSocket})}\n)`,
              `(\n${importBinaryImageScript({binary: corednsBinary, name: 'coredns', ref: corednsImage, socket: layout.containerdSocket})}\n)`,
              `(\n${importBinaryImageScript({binary: localPathBinary, name: 'local-path-provisioner', ref: localPathImage, socket: layout.containerdSocket})}\n)`,
              `(\n${importBinaryImageScript({binary: BUSYBOX_BINARY, dir: 'bin', name: 'sh', ref: LOCAL_PATH_HELPER_IMAGE, user: '0:0', socket: layout.containerdSocket})}\n)`,
            ].join('\n'),
            {label: 'import the pause, CoreDNS and local-path images', timeoutMs: 120_000},
          )
          if (isHead) {
            report.update('starting the control plane')
            const cp = {layout, headAddress: ctx.address, headName: nodeName, binDir, podCidr, serviceCidr}
            await this.start(ctx, layout, 'etcd', etcdArgs(cp), hash)
            await this.start(ctx, layout, 'kube-apiserver', apiServerArgs(cp), hash)
            const opened = await openClusterApi(headAccess(ctx), cluster)
            closeApi = opened.close
            const api = opened.api
            report.update('waiting for the API server')
            await waitFor(READY_TIMEOUT_MS, () => api.readyz(), `the API server did not become ready (see ${layout.logDir}/kube-apiserver.log)`)
            await this.start(ctx, layout, 'kube-controller-manager', controllerManagerArgs(cp), hash)
            await this.start(ctx, layout, 'kube-scheduler', schedulerArgs(cp), hash)
            apiReady.resolve(api)
          }
          // The Hadoop image before the kubelet starts: HDFS's pods never find a node without it.
          const hadoopImageDelivered = imageDelivery && (await imageDelivery.deliver(ctx, index, report))
          // Every other image cms loaded on the cluster too (a node that joins later has none of them).
          const imported = await loadedImages.deliver(ctx, isHead, report)
          const api = await apiReady.promise
          report.update('starting kubelet')
          await this.start(ctx, layout, 'kubelet', kubeletArgs(kubelet), hash)
          await this.start(ctx, layout, 'kube-proxy', kubeProxyArgs({...kubelet, podCidr}), hash)
          report.update('waiting for a pod range')
          const nodePodCidr = await api.waitPodCidr(nodeName, READY_TIMEOUT_MS)
          await ctx.session.writeFile(layout.files.cniConfig, renderCniConfig({nodePodCidr, podCidr, ipamDataDir: layout.cniDataDir}), 0o644)
          report.update('waiting for the node to be Ready')
          await api.waitReady(nodeName, READY_TIMEOUT_MS, `node ${nodeName} did not become Ready (see ${layout.logDir}/kubelet.log)`)
          const shipped = [
            ...shipment.artifacts.map((a, i) => `${a.what} ${deliveries[i]}`),
            ...(hadoopImageDelivered ? [`Hadoop image ${hadoopImageDelivered}`] : []),
            ...(imported ? [`${imported} loaded image${imported === 1 ? '' : 's'} from the head`] : []),
          ].join(', ')
          return {address: ctx.address, detail: `${isHead ? 'control plane + ' : ''}node ${nodeName} Ready, pods ${nodePodCidr}, ${shipped}`}
        } catch (error) {
          imageDelivery?.failed(index, error as Error)
          if (isHead) {
            const reason = new Error(`the head ${head.id} failed: ${(error as Error).message}`)
            shipment.headFailed(reason)
            pki.reject(reason)
            apiReady.reject(reason)
            loadedImages.headFailed(reason)
          }
          throw error
        }
      })

      if (!outcomes[0]?.ok) return {outcomes, settings: {}}
      const api = await apiReady.promise
      input.log('Routing the pod network between hosts; starting cluster DNS and the local-path StorageClass')
      await this.routePodNetwork(api, input.hosts, contexts, podCidr)
      await api.apply(parseManifests(renderCoreDnsManifests({image: corednsImage, serviceIp: clusterDnsAddress(serviceCidr)})))
      await api.waitDeploymentAvailable('kube-system', 'coredns', READY_TIMEOUT_MS)
      const volumesDir = kubernetesLayout(contexts.get(head.id)!.facts.home, cluster).volumesDir
      await api.apply(parseManifests(renderLocalPathManifests({image: localPathImage, volumesDir})))
      await api.waitDeploymentAvailable(LOCAL_PATH_NAMESPACE, 'local-path-provisioner', READY_TIMEOUT_MS)
      await api.waitDefaultServiceAccount(60_000)
      if (imageDelivery) {
        input.log('Starting HDFS: a NameNode on the head, a DataNode on every node')
        const headCtx = contexts.get(head.id)!
        const nodes = outcomes.filter((o) => o.ok).length
        const headLayout = kubernetesLayout(headCtx.facts.home, cluster)
        const dataDir = headLayout.dataDir
        const {forgetDataNodes} = await import('./hdfs-decommission.js')
        await forgetDataNodes({head: headCtx.session, api, dataDir, socket: headLayout.containerdSocket})
        const replication = Number(plan.settings.replication) || 1
        input.log(await startHdfs(api, headCtx.session, {cluster, image: plan.settings.hadoopImage!, replication, dataDir}, nodes, HDFS_TIMEOUT_MS))
      }
      return {outcomes, settings: {podCidr, serviceCidr}}
    } finally {
      await imageDelivery?.finish()
      await loadedImages.finish()
      await closeApi?.()
    }
  }

  /** The Hadoop image as a `docker save` archive (cached by image id), to put on the nodes. */
  private async hadoopImageArchive(ref: string | undefined, log: (line: string) => void): Promise<LoadImageInput['image']> {
    if (!ref) throw new Error('the cluster runs HDFS but its manifest names no Hadoop image: rerun create with --hdfs')
    const {saveImageArchive, taggedReference} = await import('../../images/image-archive.js')
    const archive = await saveImageArchive(taggedReference(ref), log)
    return {ref: archive.ref, id: archive.id, archive: archive.path, bytes: archive.bytes}
  }

  /**
   * The cluster's authorities, made once on the head and read back on every converge, and the control plane's
   * certificates and kubeconfigs, issued once. The CA key stays on the head (0600); cms holds it in memory only
   * while it issues the nodes' certificates.
   */
  private async headPki(ctx: HostContext, l: KubernetesLayout, cluster: string, headName: string, serviceCidr: string): Promise<HeadPki> {
    const f = l.files
    const read = async (path: string) => (await ctx.session.readFile(path))?.toString('utf8')
    const [caCert, caKey, apiServerCert] = await Promise.all([read(f.caCert), read(f.caKey), read(f.apiServerCert)])
    if (caCert && caKey && apiServerCert) return {ca: {certificatePem: caCert, privateKeyPem: caKey}, headAddress: ctx.address}
    const auth: ClusterAuthorities = createClusterAuthorities()
    const certs = issueControlPlaneCertificates(auth, {headAddress: ctx.address, headName, serviceCidr})
    const id: ClusterIdentity = {cluster, headAddress: ctx.address, caPem: auth.ca.certificatePem}
    // The CA certificate last: a create interrupted before it makes new authorities on the rerun.
    await writeFiles(ctx, controlPlaneFiles(l, id, auth, certs))
    await ctx.session.writeFile(f.caCert, auth.ca.certificatePem, 0o644)
    return {ca: auth.ca, headAddress: ctx.address}
  }

  /** The node's kubelet and kube-proxy credentials: those already on the host, else new ones from the CA. */
  private async nodeCredentials(ctx: HostContext, l: KubernetesLayout, ca: KeyPairPem, nodeName: string) {
    const f = l.files
    const read = async (path: string) => (await ctx.session.readFile(path))?.toString('utf8')
    const [cert, key, servingCert, servingKey, proxyConfig] = await Promise.all([f.kubeletCert, f.kubeletKey, f.kubeletServingCert, f.kubeletServingKey, f.kubeProxyKubeconfig].map(read))
    const kubeProxy = proxyConfig ? kubeconfigCredentials(proxyConfig) : undefined
    if (cert && key && servingCert && servingKey && kubeProxy) {
      return {certificates: {client: {certificatePem: cert, privateKeyPem: key}, serving: {certificatePem: servingCert, privateKeyPem: servingKey}}, kubeProxy}
    }
    const kubeProxyRequest = {commonName: IDENTITIES.kubeProxy.commonName, keyUsages: ['digitalSignature' as const], extendedKeyUsages: ['clientAuth' as const], validityDays: LEAF_VALIDITY_DAYS}
    return {certificates: issueNodeCertificates(ca, {name: nodeName, address: ctx.address}), kubeProxy: issueCertificate(ca, kubeProxyRequest)}
  }

  private async start(ctx: HostContext, l: KubernetesLayout, component: Component, argv: string[], filesHash: string): Promise<string> {
    const hash = createHash('sha256').update(argv.join('\0')).update(filesHash).digest('hex').slice(0, 16)
    return (await ctx.session.run(startComponentScript(l, component, argv, hash), {label: `start ${component}`, timeoutMs: 120_000})).trim()
  }

  /** Every host routes every other node's pod range through that node's address, as Kubernetes assigned them. */
  private async routePodNetwork(api: ClusterApi, hosts: Host[], contexts: Map<string, HostContext>, podCidr: string): Promise<void> {
    const nodes = (await api.nodes()).map((n) => ({
      name: n.metadata?.name ?? '',
      podCidr: n.spec?.podCIDR ?? '',
      address: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
    }))
    const routed = nodes.filter((n) => n.name && n.podCidr && n.address)
    await Promise.all(
      hosts.map(async (host) => {
        const ctx = contexts.get(host.id)
        const own = routed.find((n) => n.name === nodeNameFor(host.id))
        if (!ctx || !own) return
        const peers = routed.filter((n) => n !== own)
        await ctx.session.run(podNetworkScript({podCidr, nodePodCidr: own.podCidr, peers}), {label: 'route the pod network'})
      }),
    )
  }

  checkRemovable(host: Host, hosts: Host[], settings: Record<string, string>, removing: Host[]): void {
    if (host.role === 'head') throw new UsageError(`cannot remove ${host.id}: it runs the Kubernetes control plane ('cms cluster kill' removes the whole cluster)`)
    if (settings.hdfs === 'true') checkDataNodesLeft(hosts, removing, Number(settings.replication) || 1, true)
  }

  /**
   * Decommissions the node's HDFS DataNode (when the cluster runs HDFS), cordons the node and evicts its pods through
   * the Eviction API (their controllers start them elsewhere), stops its kubelet and kube-proxy, then deletes the
   * Node; the other hosts drop their route to its pod range.
   */
  async drain(input: DrainInput): Promise<string> {
    const nodeName = nodeNameFor(input.ctx.host.id)
    const {api, close} = await openClusterApi(headAccess(input.head), input.cluster)
    try {
      const node = await api.node(nodeName)
      let moved = 0
      const manifest = await readManifest(input.head.session, input.head.facts.home, input.cluster)
      const headLayout = kubernetesLayout(input.head.facts.home, input.cluster)
      const hdfs = manifest?.engineSettings.hdfs === 'true' ? {head: input.head.session, api, dataDir: headLayout.dataDir, socket: headLayout.containerdSocket} : undefined
      let datanode: string | undefined
      if (node && hdfs) {
        input.report.update('decommissioning the DataNode')
        const {decommissionDataNode} = await import('./hdfs-decommission.js')
        datanode = await decommissionDataNode({...hdfs, nodeName}, (input.graceSeconds + 300) * 1000)
      }
      if (node) {
        input.report.update('cordoning and evicting pods')
        await api.cordon(nodeName)
        moved = await api.drainNode(nodeName, (input.graceSeconds + 120) * 1000)
      }
      input.report.update('stopping kubelet')
      const layout = kubernetesLayout(input.ctx.facts.home, input.cluster)
      await input.ctx.session.run(stopComponentsScript(layout, ['kubelet', 'kube-proxy']), {label: 'stop kubelet', timeoutMs: 90_000})
      if (node) await api.deleteNode(nodeName)
      if (!node) return 'no Kubernetes node'
      return [datanode, `drained (${moved} pod${moved === 1 ? '' : 's'} evicted), node deleted`].filter(Boolean).join(', ')
    } finally {
      await close()
    }
  }

  async cleanup(ctx: HostContext, cluster: string): Promise<number> {
    const layout = kubernetesLayout(ctx.facts.home, cluster)
    await ctx.session.run(cleanupScript(layout, {home: ctx.facts.home}), {label: 'remove Kubernetes processes, network and files', timeoutMs: 180_000})
    const counts = (await ctx.session.run(leftoverScript(layout), {label: 'check leftovers'})).trim().split('\n')
    return counts.reduce((sum, line) => sum + (Number(line.split(' ')[1]) || 0), 0)
  }

  async describe(input: DescribeInput): Promise<ClusterInfo> {
    if (!input.head) return kubernetesClusterInfo(input.cluster, input.provider, input.hosts, undefined, input.headError)
    let close: (() => Promise<void>) | undefined
    try {
      const {home} = await hostFacts(input.head.session)
      const opened = await openClusterApi({session: input.head.session, address: input.head.address, home}, input.cluster)
      close = opened.close
      const api = opened.api
      const [ready, nodes, manifest] = await Promise.all([api.readyz(), api.nodes(), readManifest(input.head.session, home, input.cluster)])
      const info = kubernetesClusterInfo(input.cluster, input.provider, input.hosts, {ready, nodes, apiUrl: `https://${input.head.address}:${KUBERNETES_PORTS.apiServer}`})
      if (manifest?.engineSettings.hdfs !== 'true') return info
      const pods = await hdfsPods(api)
      const bean = await namenodeInfo(input.head.session, pods)
      if (bean) return withKubernetesHdfs(info, bean, pods)
      return {...info, health: info.health === 'healthy' ? 'degraded' : info.health, masterError: [info.masterError, 'HDFS: the NameNode does not answer'].filter(Boolean).join('; ')}
    } catch (error) {
      return kubernetesClusterInfo(input.cluster, input.provider, input.hosts, undefined, (error as Error).message)
    } finally {
      await close?.()
    }
  }

  listFields(info: ClusterInfo): Partial<ClusterListEntry> {
    const k = info.kubernetes
    if (!k) return {error: info.masterError}
    return {masterStatus: k.ready ? 'READY' : 'NOT READY', aliveWorkers: k.readyNodes, cores: k.cpuCores, memoryMb: k.memoryMb, ...(info.hdfs ? hdfsListFields(info.hdfs) : {})}
  }

  async loadJobs(files: string[], overrides: JobOverrides): Promise<LoadedJob[]> {
    const {loadKubernetesJobFiles} = await import('./job-files.js')
    return loadKubernetesJobFiles(files, overrides)
  }

  async openJobs(input: JobsInput): Promise<JobService> {
    const {openKubernetesJobs} = await import('./job-service-factory.js')
    return openKubernetesJobs(input)
  }

  async loadImage(input: LoadImageInput): Promise<LoadImageResult> {
    const {loadImageOnKubernetes} = await import('./image-load.js')
    return loadImageOnKubernetes(input)
  }

  async attached(): Promise<AttachedEngine> {
    return (await import('./attached.js')).kubernetesAttached
  }

  /** put/get: WebHDFS at the NameNode pod's address, which the head reaches on the pod network. */
  async hdfs(input: {cluster: string; head: HostContext}): Promise<{address: string; port: number} | undefined> {
    const namenode = await namenodePod(input)
    if (namenode === 'missing') throw new Error(`cluster ${input.cluster} runs HDFS but its NameNode has no pod now (see 'kubectl -n cms-hdfs get pods')`)
    return namenode === undefined ? undefined : {address: namenode, port: HADOOP_PORTS.namenodeHttp}
  }

  /** JupyterLab as a pod of the notebook image, its kernels' drivers asking the API for executor pods. */
  async notebookServer(input: NotebookInput): Promise<NotebookServer> {
    const [{PodNotebookServer}, {openClusterApi}, {imagesOnHead}] = await Promise.all([import('./notebook.js'), import('./api-access.js'), import('./job-service-factory.js')])
    return new PodNotebookServer({
      cluster: input.cluster,
      log: input.log,
      openApi: () => openClusterApi(headAccess(input.head), input.cluster),
      images: () => imagesOnHead(input),
    })
  }

  async endpoints(input: {cluster: string; head: HostContext}): Promise<Endpoint[]> {
    const api: Endpoint = {
      name: 'api',
      description: 'Kubernetes API server (client certificate)',
      address: input.head.address,
      port: KUBERNETES_PORTS.apiServer,
      scheme: 'https',
      localPort: tunnelPort(input.cluster),
    }
    // --hdfs: the NameNode's web UI too, at its pod's address (the head reaches the pod network); a NameNode
    // without a pod now (restarting) does not keep the API from its tunnel.
    const namenode = await namenodePod(input)
    if (namenode === undefined || namenode === 'missing') return [api]
    return [api, {name: 'namenode', description: 'HDFS NameNode web UI, /jmx and WebHDFS (its pod; unauthenticated: local only)', address: namenode, port: HADOOP_PORTS.namenodeHttp, scheme: 'http'}]
  }

  async kubeconfig(input: {cluster: string; head: HostContext; server: string}): Promise<{text: string; context: string}> {
    return {text: await userKubeconfig(headAccess(input.head), input.cluster, input.server), context: `cms-${input.cluster}`}
  }

  /**
   * KUBECONFIG for kubectl and every client that reads it: the cluster's CA and the admin credentials, with the
   * server at the tunnel's local address. It holds a private key: written 0600, and only when asked. SPARK_CONF_DIR
   * for a stock spark-submit (cluster deploy mode, as the namespace's Spark service account: spark-submit-access.ts).
   */
  async clientEnvironment(input: {cluster: string; head: HostContext; local: Record<string, string>; secretsDir: string; withSecrets: boolean}): Promise<Record<string, string>> {
    if (!input.withSecrets) return {}
    const {writeFileSync} = await import('node:fs')
    const path = `${input.secretsDir}/kubeconfig`
    writeFileSync(path, await userKubeconfig(headAccess(input.head), input.cluster, input.local.api!), {mode: 0o600})
    const {sparkSubmitEnvironment} = await import('./spark-submit-access.js')
    return {
      KUBECONFIG: path,
      ...(input.local.namenode ? {CMS_NAMENODE_URL: input.local.namenode} : {}),
      ...(await sparkSubmitEnvironment({cluster: input.cluster, head: input.head, apiUrl: input.local.api!, dir: input.secretsDir, kubeconfig: path})),
    }
  }
}

/** The NameNode pod's address on a cluster made with --hdfs; undefined without HDFS, 'missing' when it has no pod now. */
async function namenodePod(input: {cluster: string; head: HostContext}): Promise<string | undefined> {
  const manifest = await readManifest(input.head.session, input.head.facts.home, input.cluster)
  if (manifest?.engineSettings.hdfs !== 'true') return undefined
  const {api, close} = await openClusterApi(headAccess(input.head), input.cluster)
  try {
    return (await hdfsPods(api)).namenode?.ip ?? 'missing'
  } finally {
    await close()
  }
}

/**
 * The local port `cms cluster tunnel` takes for the cluster's API when it is free: fixed per cluster name (so a
 * kubeconfig written once keeps working), spread over 20000-29999.
 */
export function tunnelPort(cluster: string): number {
  return 20000 + (createHash('sha256').update(cluster).digest().readUInt32BE(0) % 10000)
}

/** The admin kubeconfig of the cluster with its server at `server` (a tunnel's local URL), under cms-CLUSTER names. */
export async function userKubeconfig(head: HeadAccess, cluster: string, server: string): Promise<string> {
  const layout = kubernetesLayout(head.home, cluster)
  const admin = (await head.session.readFile(layout.files.adminKubeconfig))?.toString('utf8')
  if (!admin) throw new Error(`the head of ${cluster} has no Kubernetes admin credentials: rerun 'cms cluster create'`)
  const {renderKubeconfig} = await import('./kubeconfig.js')
  const name = `cms-${cluster}`
  const pair = kubeconfigCredentials(admin)
  return renderKubeconfig({clusterName: name, userName: name, contextName: name, server, caPem: kubeconfigCa(admin), clientCertificatePem: pair.certificatePem, clientKeyPem: pair.privateKeyPem})
}

function headAccess(ctx: HostContext): HeadAccess {
  return {session: ctx.session, address: ctx.address, home: ctx.facts.home}
}

/** Every file at once: the requests share the connection's one SFTP channel, pipelined. */
async function writeFiles(ctx: HostContext, files: HostFile[]): Promise<void> {
  await Promise.all(files.map((f) => ctx.session.writeFile(f.path, f.content, f.mode)))
}

function configHash(files: HostFile[]): string {
  const h = createHash('sha256')
  for (const f of files) h.update(f.path).update('\0').update(f.content).update('\0')
  return h.digest('hex')
}

function parseManifests(text: string): unknown[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as unknown)
    .filter(Boolean)
}
