import {execFileSync} from 'node:child_process'
import {copyFileSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {kubernetesLayout} from '../../src/engines/kubernetes/layout.js'
import {cms, docker, labelledContainers, makeCmsHome, removeClusterContainers, ROOT, sparkRuntimeHome, waitUntil} from './helpers.js'
import {jupyter, NOTEBOOK, notebookCases, openNotebook, SUM} from './notebook.cases.js'
import {s3KubernetesCases} from './s3-kubernetes.cases.js'

/**
 * Spark on a cms Kubernetes cluster, end to end through the CLI: `cms image build spark`, `cms image load` into
 * every node's containerd (one upload to the head), then Spark's pi.py as a portable job spec: the driver runs in a
 * Job's pod and asks the API for executor pods. Asserts on the Docker engine, containerd and the Kubernetes API
 * (kubectl on the head with the cluster's admin kubeconfig), not on what cms printed. Needs CMS_K8S_DIST
 * (scripts/k8s-dist.sh) and CMS_SPARK_DIST (scripts/testbed.sh); CMS_E2E_K8S_SPARK_CLUSTER names the cluster.
 * With CMS_HADOOP_DIST (scripts/hadoop-dist.sh) the same cluster is made with --hdfs: the Hadoop image built and
 * loaded by create, HDFS as pods, and a word count that reads and writes hdfs:// paths.
 */
const K8S_DIST = process.env.CMS_K8S_DIST
const SPARK_DIST = process.env.CMS_SPARK_DIST
const HADOOP_DIST = process.env.CMS_HADOOP_DIST
const NAME = process.env.CMS_E2E_K8S_SPARK_CLUSTER ?? 'e2e-k8sspark'
const layout = kubernetesLayout('/root', NAME)
const hasJavac = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v javac && command -v jar'])
    return true
  } catch {
    return false
  }
})()

interface PodInfo {
  metadata: {name: string; labels: Record<string, string>}
  spec: {nodeName?: string}
  status: {phase: string}
}

describe.skipIf(!K8S_DIST || !SPARK_DIST)('Spark on Kubernetes: image build, image load, pi.py as a job spec', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  const work = mkdtempSync(join(tmpdir(), 'cms-e2e-k8sspark-'))
  let head = ''
  let nodes: string[] = []
  let kubectlBin = ''
  let image = ''
  let hadoopImage = ''

  const kubectl = async (...args: string[]) => docker('exec', head, kubectlBin, '--kubeconfig', layout.files.adminKubeconfig, '--cache-dir', '/var/tmp/kubectl-cache', ...args)
  const ctrImages = (node: string) => docker('exec', node, 'ctr', '--address', layout.containerdSocket, '-n', 'k8s.io', 'images', 'ls')

  beforeAll(async () => {
    await removeClusterContainers(NAME)
    const hdfs = HADOOP_DIST ? ['--hdfs', '--hadoop-dist', HADOOP_DIST] : []
    const started = Date.now()
    const r = await cms(['cluster', 'create', '-n', NAME, '-e', 'kubernetes', '--hosts', '2', '--k8s-dist', K8S_DIST!, ...hdfs, '--json'], env, {timeoutMs: 1_800_000})
    if (r.code !== 0) throw new Error(`cluster create failed: ${r.stderr.slice(-2000)}`)
    console.log(`create${HADOOP_DIST ? ' --hdfs' : ''}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
    const containers = await labelledContainers(NAME)
    head = containers.find((c) => c.role === 'head')!.name
    nodes = containers.map((c) => c.name)
    kubectlBin = (await docker('exec', head, 'sh', '-c', "find / -xdev -type f -name kubectl -perm -u+x 2>/dev/null | head -n 1")).trim()
    execFileSync('sh', ['-c', `tar -xzOf "$1" --wildcards '*/examples/src/main/python/pi.py' > "$2"`, 'sh', SPARK_DIST!, join(work, 'pi.py')])
  })

  afterAll(async () => {
    await cms(['cluster', 'kill', '-n', NAME, '--yes'], env).catch(() => undefined)
    await removeClusterContainers(NAME)
    cleanup()
    rmSync(work, {recursive: true, force: true})
  })

  it('builds the Spark image once: non-root, Java 17, Python 3, Spark at /opt/spark; a rebuild with the same inputs is skipped', async () => {
    const r = await cms(['image', 'build', 'spark', '--spark-dist', SPARK_DIST!, '--json'], env, {timeoutMs: 1_800_000})
    expect(r.code, r.stderr).toBe(0)
    const built = JSON.parse(r.stdout) as {tag: string; id: string; built: boolean; seconds: number; sizeBytes: number}
    image = built.tag
    expect(image).toMatch(/^cms\/spark:\d+\.\d+\.\d+/)
    const [inspected] = JSON.parse(await docker('image', 'inspect', image)) as Array<{Id: string; Config: {User: string; Entrypoint: string[]; Labels: Record<string, string>}}>
    expect(inspected!.Id).toBe(built.id)
    expect(inspected!.Config.User).toBe('185')
    expect(inspected!.Config.Entrypoint).toEqual(['/opt/entrypoint.sh'])
    const versions = await docker('run', '--rm', '--name', `${NAME}-probe`, image, 'sh', '-c', 'id -u; java -version 2>&1 | head -n 1; python3 --version; test -x /opt/spark/bin/spark-submit && echo spark-ok')
    expect(versions).toMatch(/^185\nopenjdk version "17\..*\nPython 3\.\d+\.\d+\nspark-ok$/s)
    console.log(`spark image ${image}: ${(built.sizeBytes / 2 ** 20).toFixed(0)} MiB, ${built.built ? `built in ${built.seconds.toFixed(1)} s` : 'already built'}`)

    const again = await cms(['image', 'build', 'spark', '--spark-dist', SPARK_DIST!, '--json'], env)
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({tag: image, id: built.id, built: false})
  })

  it('loads the image into every node\'s containerd with one upload; a rerun changes nothing', async () => {
    const r = await cms(['image', 'load', '-n', NAME, image, '--json'], env, {timeoutMs: 900_000})
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as {archiveBytes: number; uploadedBytes: number; seconds: number; hosts: Array<{host: string; ok: boolean}>}
    expect(report.hosts.map((h) => h.host).sort()).toEqual([...nodes].sort())
    expect(report.hosts.every((h) => h.ok)).toBe(true)
    // One upload (to the head): the other node fetched it there.
    expect(report.uploadedBytes).toBeLessThanOrEqual(report.archiveBytes)
    const id = (await docker('image', 'inspect', '-f', '{{.Id}}', image)).replace(/^sha256:/, '').slice(0, 16)
    for (const node of nodes) expect(await ctrImages(node)).toMatch(new RegExp(`docker\\.io/${image.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} .*cms\\.image-id=${id}`))
    console.log(`image load: ${(report.archiveBytes / 2 ** 20).toFixed(0)} MiB archive, ${report.seconds.toFixed(1)} s`)

    const again = await cms(['image', 'load', '-n', NAME, image, '--json'], env)
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout).uploadedBytes).toBe(0)
  })

  it('runs pi.py as a portable spec: the driver in a Job pod, executors as pods on the nodes, the result in the logs', async () => {
    writeFileSync(
      join(work, 'pi.yaml'),
      ['app: pi.py', 'args: [20]', 'driver: {memory: 512m}', 'executor: {instances: 2, cores: 1, memory: 512m}', 'retries: 1'].join('\n'),
    )
    const started = Date.now()
    const submit = cms(['cluster', 'submit', '-n', NAME, join(work, 'pi.yaml'), '--wait', '--json'], env, {timeoutMs: 600_000})
    // Executor pods exist only while the driver runs (Spark deletes them at the end): watch them from the API.
    const executors = new Map<string, string>()
    let finished = false
    void submit.then(() => (finished = true))
    for (let i = 0; i < 600 && !finished; i++) {
      const pods = JSON.parse(await kubectl('get', 'pods', '-l', 'spark-role=executor', '-o', 'json').catch(() => '{"items":[]}')).items as PodInfo[]
      for (const p of pods) if (p.spec.nodeName) executors.set(p.metadata.name, p.spec.nodeName)
      await new Promise((r) => setTimeout(r, 1000))
    }
    const r = await submit
    expect(r.code, r.stderr).toBe(0)
    const seconds = (Date.now() - started) / 1000
    const job = (JSON.parse(r.stdout) as {jobs: Array<{id: string; state: string}>}).jobs[0]!
    expect(job.state).toBe('SUCCEEDED')

    const k8sJobs = JSON.parse(await kubectl('get', 'jobs', '-l', 'app.kubernetes.io/managed-by=cms', '-o', 'json')).items as Array<{
      metadata: {name: string; annotations: Record<string, string>}
      spec: {backoffLimit: number}
      status: {succeeded?: number}
    }>
    // Job ids on Kubernetes are NAMESPACE/NAME.
    const ours = k8sJobs.find((j) => `default/${j.metadata.name}` === job.id || j.metadata.name === job.id)!
    expect(ours, `no Job ${job.id} among ${k8sJobs.map((j) => j.metadata.name).join(', ')}`).toBeDefined()
    expect(ours.status.succeeded).toBe(1)
    expect(ours.spec.backoffLimit).toBe(1)
    expect(executors.size).toBeGreaterThanOrEqual(2)
    // On the cluster's nodes. Which ones is the scheduler's call: with a 1-core driver on a node of 2 cores that also
    // runs CoreDNS (50m), both executors fit only on the other node, and where the driver lands depends on the
    // memory the HDFS and local-path pods take on each node (seen both ways).
    expect([...executors.values()].every((n) => nodes.includes(n)), [...executors.values()].join(', ')).toBe(true)
    const logs = await kubectl('logs', `job/${ours.metadata.name}`, '--tail=-1')
    expect(logs).toMatch(/Pi is roughly 3\.1\d*/)
    const viaCms = await cms(['job', 'logs', '-n', NAME, job.id], env)
    expect(viaCms.stdout + viaCms.stderr).toMatch(/Pi is roughly 3\.1/)
    console.log(`pi.py: ${seconds.toFixed(1)} s, executors ${[...executors].map(([p, n]) => `${p}@${n}`).join(', ')}`)
    // The ConfigMap with the spec's local files outlives the Job (a rerun needs it); a purge removes it too.
    const configMaps = async () => JSON.parse(await kubectl('get', 'configmaps', '-l', `cms.job=${ours.metadata.name}`, '-o', 'json')).items as unknown[]
    expect(await configMaps()).toHaveLength(1)
    const purge = await cms(['job', 'kill', '-n', NAME, job.id, '--purge'], env)
    expect(purge.code, purge.stderr).toBe(0)
    expect(await configMaps()).toHaveLength(0)
    expect(JSON.parse(await kubectl('get', 'jobs', '-o', 'json')).items.map((j: {metadata: {name: string}}) => j.metadata.name)).not.toContain(ours.metadata.name)
  })

  it('maps files, pyFiles and env: executors import the pyFile, read the file and see the variable', async () => {
    writeFileSync(join(work, 'helper.py'), 'def shout(s):\n    return s.upper()\n')
    writeFileSync(join(work, 'words.txt'), 'alpha\nbeta\ngamma\n')
    writeFileSync(
      join(work, 'check.py'),
      [
        'import os, sys',
        'from pyspark import SparkFiles',
        'from pyspark.sql import SparkSession',
        'spark = SparkSession.builder.getOrCreate()',
        'def probe(_):',
        '    import helper',
        "    with open(SparkFiles.get('words.txt')) as f:",
        '        words = f.read().split()',
        "    return (helper.shout(os.environ.get('GREETING', 'none')), len(words))",
        'got = spark.sparkContext.parallelize(range(4), 4).map(probe).distinct().collect()',
        "print('CMS-K8S-FILES', sys.argv[1], got, flush=True)",
        'spark.stop()',
      ].join('\n'),
    )
    writeFileSync(
      join(work, 'check.yaml'),
      ['app: check.py', 'args: ["$(HOME)"]', 'pyFiles: [helper.py]', 'files: [words.txt]', 'env: {GREETING: hello}', 'executor: {instances: 2, cores: 1, memory: 512m}', 'driver: {memory: 512m}', 'priority: 10'].join('\n'),
    )
    const r = await cms(['cluster', 'submit', '-n', NAME, join(work, 'check.yaml'), '--wait', '--json'], env, {timeoutMs: 600_000})
    expect(r.code, r.stderr).toBe(0)
    const job = (JSON.parse(r.stdout) as {jobs: Array<{id: string; state: string}>}).jobs[0]!
    expect(job.state).toBe('SUCCEEDED')
    const logs = await kubectl('logs', `job/${job.id.split('/').pop()}`, '--tail=-1')
    // "$(HOME)" reached the app as written (not expanded by Kubernetes); every executor saw all three.
    expect(logs).toContain("CMS-K8S-FILES $(HOME) [('HELLO', 3)]")
    expect(await kubectl('get', 'priorityclass', 'cms-priority-10', '-o', 'jsonpath={.value}')).toBe('10')
  })

  it('mounts the spec\'s volumes in the driver pod and every executor pod: a hostPath read-only, an emptyDir', async () => {
    // Each node's own file at the hostPath: an executor reports the node it read it on.
    for (const node of nodes) await docker('exec', node, 'sh', '-c', 'mkdir -p /srv/cms-e2e && hostname > /srv/cms-e2e/node.txt && chmod -R a+rX /srv/cms-e2e')
    writeFileSync(
      join(work, 'volumes.py'),
      [
        'import os',
        'from pyspark.sql import SparkSession',
        'spark = SparkSession.builder.getOrCreate()',
        'def probe(_):',
        "    with open('/data/node.txt') as f:",
        '        node = f.read().strip()',
        "    with open('/scratch/probe', 'w') as f:",
        "        f.write('ok')",
        "    return (node, os.access('/data', os.W_OK), os.path.exists('/scratch/probe'))",
        'got = sorted(spark.sparkContext.parallelize(range(8), 8).map(probe).distinct().collect())',
        "print('CMS-K8S-VOLUMES', open('/data/node.txt').read().strip(), got, flush=True)",
        'spark.stop()',
      ].join('\n'),
    )
    writeFileSync(
      join(work, 'volumes.yaml'),
      [
        'app: volumes.py',
        'volumes:',
        '  - {name: data, mount: /data, hostPath: /srv/cms-e2e, readOnly: true}',
        '  - {name: scratch, mount: /scratch, emptyDir: true}',
        'executor: {instances: 2, cores: 1, memory: 512m}',
        'driver: {memory: 512m}',
      ].join('\n'),
    )
    const r = await cms(['cluster', 'submit', '-n', NAME, join(work, 'volumes.yaml'), '--wait', '--json'], env, {timeoutMs: 600_000})
    expect(r.code, r.stderr).toBe(0)
    const job = (JSON.parse(r.stdout) as {jobs: Array<{id: string; state: string}>}).jobs[0]!
    expect(job.state).toBe('SUCCEEDED')
    const name = job.id.split('/').pop()!
    const logs = await kubectl('logs', `job/${name}`, '--tail=-1')
    const line = /CMS-K8S-VOLUMES (\S+) (.*)/.exec(logs)
    expect(line, logs.slice(-2000)).not.toBeNull()
    // The driver read its node's file; each executor its own node's, read-only, with a writable scratch folder.
    const hostnames = await Promise.all(nodes.map((n) => docker('exec', n, 'hostname')))
    expect(hostnames).toContain(line![1])
    for (const [, node, writable, scratch] of line![2]!.matchAll(/\('([^']+)', (True|False), (True|False)\)/g)) {
      expect(hostnames).toContain(node)
      expect([writable, scratch]).toEqual(['False', 'True'])
    }
    const pod = JSON.parse(await kubectl('get', 'job', name, '-o', 'json')).spec.template.spec as {volumes: Array<{name: string; hostPath?: {path: string}; emptyDir?: object}>}
    expect(pod.volumes.filter((v) => v.name !== 'cms-job')).toMatchObject([{name: 'data', hostPath: {path: '/srv/cms-e2e'}}, {name: 'scratch', emptyDir: {}}])
  })

  it('a spec with a pvc volume writes a file that a second job reads: the claim bound through the default local-path StorageClass', async () => {
    const claim = 'e2e-data'
    writeFileSync(
      join(work, 'pvc.yaml'),
      `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: ${claim}, namespace: default}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 64Mi}}}\n`,
    )
    // Not /tmp: a tmpfs in the node container, which docker cp cannot write to.
    await docker('cp', join(work, 'pvc.yaml'), `${head}:/var/tmp/e2e-pvc.yaml`)
    await kubectl('apply', '-f', '/var/tmp/e2e-pvc.yaml')
    const spec = (name: string, app: string) =>
      [`name: ${name}`, `app: ${app}`, 'volumes:', `  - {name: data, mount: /data, pvc: ${claim}}`, 'executor: {instances: 1, cores: 1, memory: 512m}', 'driver: {memory: 512m}'].join('\n')
    // The driver alone writes and reads (no SparkSession, so no executor pods): a local-path volume ties every pod
    // that mounts it to one node, and a driver and an executor of 1 core each may not both fit on that node.
    writeFileSync(join(work, 'pvc-write.py'), ['n = sum(1 for _ in range(1000))', "open('/data/written.txt', 'w').write(f'rows={n}\\n')"].join('\n'))
    writeFileSync(join(work, 'pvc-read.py'), ["print('CMS-PVC-READ', open('/data/written.txt').read().strip(), flush=True)"].join('\n'))
    writeFileSync(join(work, 'pvc-write.yaml'), spec('pvc-write', 'pvc-write.py'))
    writeFileSync(join(work, 'pvc-read.yaml'), spec('pvc-read', 'pvc-read.py'))
    const ids: string[] = []
    for (const f of ['pvc-write.yaml', 'pvc-read.yaml']) {
      const r = await cms(['cluster', 'submit', '-n', NAME, join(work, f), '--wait', '--json'], env, {timeoutMs: 600_000})
      expect(r.code, r.stderr).toBe(0)
      const job = (JSON.parse(r.stdout) as {jobs: Array<{id: string; state: string}>}).jobs[0]!
      expect(job.state).toBe('SUCCEEDED')
      ids.push(job.id.split('/').pop()!)
    }
    expect(await kubectl('logs', `job/${ids[1]}`, '--tail=-1')).toContain('CMS-PVC-READ rows=1000')
    // Bound by the provisioner, on a node's disk under the cluster's folder (kill removes it).
    const pvc = JSON.parse(await kubectl('get', 'pvc', claim, '-o', 'json')) as {status: {phase: string}; spec: {storageClassName: string; volumeName: string}}
    expect(pvc.status.phase).toBe('Bound')
    expect(pvc.spec.storageClassName).toBe('local-path')
    const pv = JSON.parse(await kubectl('get', 'pv', pvc.spec.volumeName, '-o', 'json')) as {spec: {hostPath?: {path: string}; local?: {path: string}; nodeAffinity: {required: {nodeSelectorTerms: Array<{matchExpressions: Array<{values: string[]}>}>}}}}
    const path = pv.spec.hostPath?.path ?? pv.spec.local?.path ?? ''
    expect(path.startsWith(`${layout.volumesDir}/`), path).toBe(true)
    const node = pv.spec.nodeAffinity.required.nodeSelectorTerms[0]!.matchExpressions[0]!.values[0]!
    expect(await docker('exec', node, 'cat', `${path}/written.txt`)).toBe('rows=1000')
    await kubectl('delete', 'pvc', claim, '--wait=false')
  })

  /** The cluster attached under another name by its admin kubeconfig, as if cms had not made it; detach undoes it. */
  const attachAsForeign = async (): Promise<string> => {
    const att = `${NAME}-att`.slice(0, 32)
    const headIp = (await labelledContainers(NAME)).find((c) => c.role === 'head')!.ip
    // The head's admin kubeconfig, its server at the head's private address (the API server's certificate names it).
    const admin = (await docker('exec', head, 'cat', layout.files.adminKubeconfig)).replace(/server: https:\/\/[^\s]+/, `server: https://${headIp}:6443`)
    const file = join(work, 'attached.kubeconfig')
    writeFileSync(file, admin, {mode: 0o600})
    const r = await cms(['cluster', 'attach', '-n', att, '--kubeconfig', file], env)
    expect(r.code, r.stderr).toBe(0)
    return att
  }

  it('runs a spec on the cluster attached by its admin kubeconfig (as if cms had not made it): the Spark image from what the nodes report', async () => {
    const att = await attachAsForeign()
    try {
      writeFileSync(join(work, 'attached-pi.yaml'), ['name: attached-pi', 'app: pi.py', 'args: [4]', 'driver: {memory: 512m}', 'executor: {instances: 1, cores: 1, memory: 512m}'].join('\n'))
      const submitted = await cms(['cluster', 'submit', '-n', att, join(work, 'attached-pi.yaml'), '--wait', '--json'], env, {timeoutMs: 600_000})
      expect(submitted.code, submitted.stderr).toBe(0)
      const job = (JSON.parse(submitted.stdout) as {jobs: Array<{id: string; state: string}>}).jobs[0]!
      expect(job.state).toBe('SUCCEEDED')
      const name = job.id.split('/').pop()!
      const pod = JSON.parse(await kubectl('get', 'job', name, '-o', 'json')).spec.template.spec as {containers: Array<{image: string}>}
      expect(pod.containers[0]!.image).toBe(image)
      expect(await kubectl('logs', `job/${name}`, '--tail=-1')).toMatch(/Pi is roughly 3\.\d+/)
    } finally {
      await cms(['cluster', 'detach', '-n', att], env)
    }
  })

  it.skipIf(!hasJavac)('runs a JVM app (.jar in the ConfigMap) with its main class', async () => {
    const src = join(work, 'jvm')
    execFileSync('sh', ['-c', `mkdir -p "$1/jars" "$1/classes" && tar -xzf "$2" -C "$1/jars" --strip-components=2 --wildcards '*/jars/spark-core_*' '*/jars/scala-library-*' '*/jars/spark-common-utils_*'`, 'sh', src, SPARK_DIST!])
    writeFileSync(
      join(src, 'CmsJvm.java'),
      [
        'import java.util.Arrays;',
        'import org.apache.spark.SparkConf;',
        'import org.apache.spark.api.java.JavaSparkContext;',
        'public class CmsJvm {',
        '  public static void main(String[] args) {',
        '    JavaSparkContext sc = new JavaSparkContext(new SparkConf());',
        '    long n = sc.parallelize(Arrays.asList(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 4).count();',
        '    System.out.println("CMS-JVM-OK " + n + " " + args[0]);',
        '    sc.stop();',
        '  }',
        '}',
      ].join('\n'),
    )
    execFileSync('sh', ['-c', 'cd "$1" && javac --release 17 -cp "jars/*" -d classes CmsJvm.java && jar cf cms-jvm.jar -C classes .', 'sh', src])
    writeFileSync(join(work, 'jvm.yaml'), ['app: jvm/cms-jvm.jar', 'mainClass: CmsJvm', 'args: [from-k8s]', 'executor: {instances: 1, cores: 1, memory: 512m}', 'driver: {memory: 512m}'].join('\n'))
    const r = await cms(['cluster', 'submit', '-n', NAME, join(work, 'jvm.yaml'), '--wait', '--json'], env, {timeoutMs: 600_000})
    expect(r.code, r.stderr).toBe(0)
    const job = (JSON.parse(r.stdout) as {jobs: Array<{id: string; state: string; kind: string}>}).jobs[0]!
    expect(job).toMatchObject({state: 'SUCCEEDED', kind: 'jvm'})
    expect(await kubectl('logs', `job/${job.id.split('/').pop()}`, '--tail=-1')).toContain('CMS-JVM-OK 10 from-k8s')
  })

  s3KubernetesCases({name: NAME, home, work, image: () => image, kubectl})

  const notebookExecutors = async () => JSON.parse(await kubectl('get', 'pods', '-l', 'spark-role=executor,cms.notebook=cms-notebook', '-o', 'json')).items as PodInfo[]
  notebookCases({
    title: "cms notebook: a pod as the namespace's Spark service account, executor pods, notebooks on a volume claim",
    name: NAME,
    env,
    hosts: () => ({headIp: '', head, ips: []}),
    // The Spark image is on the nodes (loaded above); the notebook image is built FROM it and loaded the same way.
    prepare: async () => {
      const built = await cms(['image', 'build', 'notebook', '--spark-dist', SPARK_DIST!, '--json'], env, {timeoutMs: 1_800_000})
      expect(built.code, built.stderr).toBe(0)
      const r = await cms(['image', 'load', '-n', NAME, JSON.parse(built.stdout).tag], env, {timeoutMs: 900_000})
      expect(r.code, r.stderr).toBe(0)
    },
    // The kernel's driver (in the notebook's pod) asked the API for executor pods: they run on the cluster's nodes.
    executors: async () => {
      const pods = await notebookExecutors()
      expect(pods.length).toBeGreaterThan(0)
      for (const p of pods) expect(p.status.phase).toBe('Running')
      const notebook = JSON.parse(await kubectl('get', 'pod', 'cms-notebook', '-o', 'json')) as {spec: {serviceAccountName: string}}
      expect(notebook.spec.serviceAccountName).toBe('cms-spark')
      expect(JSON.parse(await kubectl('get', 'pvc', 'cms-notebook', '-o', 'json')).status.phase).toBe('Bound')
    },
    // The executor pods were owned by the notebook's pod: they went with it; the claim stays.
    stopped: async () => {
      await waitUntil('the executor pods to go', async () => (await notebookExecutors()).length === 0, 120_000)
      expect(await kubectl('get', 'pod', 'cms-notebook', '--ignore-not-found', '-o', 'name')).toBe('')
      expect(JSON.parse(await kubectl('get', 'pvc', 'cms-notebook', '-o', 'json')).status.phase).toBe('Bound')
    },
  })

  it('cms notebook on the attached cluster: the same pod and volume claim, its images from what the nodes report, reached through the API server\'s port-forward', async () => {
    const att = await attachAsForeign()
    try {
      const nb = await openNotebook(att, env)
      expect(nb.url.hostname).toBe('127.0.0.1')
      expect(nb.stdout).toContain('(started;')
      // The notebook the cases above saved on the claim is there, read through Jupyter's API over the port-forward.
      const saved = (await (await jupyter(nb, `/api/contents/${NOTEBOOK}`)).json()) as {content: {cells: Array<{outputs: Array<{text?: string}>}>}}
      expect(saved.content.cells[0]!.outputs.map((o) => o.text ?? '').join('')).toContain(`sum ${SUM}`)
      const pod = JSON.parse(await kubectl('get', 'pod', 'cms-notebook', '-o', 'json')) as {spec: {serviceAccountName: string; containers: Array<{image: string}>}; status: {phase: string}}
      expect([pod.status.phase, pod.spec.serviceAccountName, pod.spec.containers[0]!.image.startsWith('cms/notebook:')]).toEqual(['Running', 'cms-spark', true])
      await nb.stop()
      const stopped = await cms(['notebook', '-n', att, '--stop', '--json'], env)
      expect(stopped.code, stopped.stderr).toBe(0)
      expect(JSON.parse(stopped.stdout)).toMatchObject({cluster: att, engine: 'kubernetes', state: 'stopped'})
      expect(await kubectl('get', 'pod', 'cms-notebook', '--ignore-not-found', '-o', 'name')).toBe('')
    } finally {
      await cms(['notebook', '-n', att, '--stop'], env)
      await cms(['cluster', 'detach', '-n', att], env)
    }
  })

  it("a stock spark-submit on this machine runs pi.py in cluster mode through cms cluster tunnel, as the namespace's Spark service account", async () => {
    // The pyspark runtime's own spark-submit, unmodified; the tunnel's SPARK_CONF_DIR names the master, the
    // namespace, the submission token and CA, the driver's service account and the image cms loaded.
    const sparkSubmit = join(sparkRuntimeHome(), 'bin', 'spark-submit')
    const driver = 'cms-stock-pi-driver'
    // spark-submit's default waitAppCompletion=true: it follows the driver pod through a watch (fabric8, over the
    // tunnel) and returns only once the pod has ended, with the driver's exit status.
    const r = await cms(
      ['cluster', 'tunnel', '-n', NAME, '--', sparkSubmit, '--deploy-mode', 'cluster', '--name', 'cms-stock-pi', '--conf', `spark.kubernetes.driver.pod.name=${driver}`, '--conf', 'spark.executor.instances=1', 'local:///opt/spark/examples/src/main/python/pi.py', '10'],
      env,
      {timeoutMs: 900_000},
    )
    const out = r.stdout.slice(-2000) + r.stderr.slice(-2000)
    expect(r.code, out).toBe(0)
    // It saw the pod end through its watch (not just a first GET): the final statuses come only from a watch event.
    expect(r.stderr, out).toMatch(/phase: Succeeded/)
    expect(r.stderr, out).toMatch(/Container final statuses:[\s\S]*exit code: 0/)
    expect(r.stderr).not.toMatch(/RequestWatchProgress/)
    type Pod = {spec: {serviceAccountName: string; containers: Array<{image: string}>}; status: {phase: string}}
    // Already ended when spark-submit returned: one look, no waiting.
    const pod = JSON.parse(await kubectl('get', 'pod', driver, '-n', 'default', '-o', 'json')) as Pod
    expect(pod.status.phase).toBe('Succeeded')
    expect(pod.spec.serviceAccountName).toBe('cms-spark')
    expect(pod.spec.containers[0]!.image).toBe(image)
    expect(await kubectl('logs', driver, '-n', 'default', '--tail=-1')).toMatch(/Pi is roughly 3\.\d+/)
    // The submission ran as the service account, which may do nothing outside its namespace.
    const canI = (ns: string) => kubectl('auth', 'can-i', 'create', 'pods', '-n', ns, '--as', 'system:serviceaccount:default:cms-spark').catch((e: {stdout?: string}) => String(e.stdout ?? '').trim())
    expect(await canI('default')).toBe('yes')
    expect(await canI('kube-system')).toBe('no')
    await kubectl('delete', 'pod', driver, '-n', 'default', '--wait=false')
  })


  it('refuses a spec whose local files do not fit a ConfigMap (exit 2), and the API shows nothing new', async () => {
    const before = await kubectl('get', 'jobs,configmaps', '-o', 'name')
    writeFileSync(join(work, 'big.bin'), Buffer.alloc((1 << 20) + 1, 1))
    writeFileSync(join(work, 'big.yaml'), ['app: pi.py', 'files: [big.bin]'].join('\n'))
    const r = await cms(['cluster', 'submit', '-n', NAME, join(work, 'big.yaml')], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/at most 1 MiB/)
    expect(await kubectl('get', 'jobs,configmaps', '-o', 'name')).toBe(before)
  })
  it.skipIf(!HADOOP_DIST)('--hdfs: the Hadoop image (built by create, kept on a rebuild) is on every node; HDFS runs as pods with a live DataNode per node', async () => {
    const again = await cms(['image', 'build', 'hadoop', '--hadoop-dist', HADOOP_DIST!, '--json'], env, {timeoutMs: 900_000})
    expect(again.code, again.stderr).toBe(0)
    const built = JSON.parse(again.stdout) as {tag: string; id: string; built: boolean; hadoopVersion: string}
    expect(built).toMatchObject({tag: `cms/hadoop:${built.hadoopVersion}`, built: false})
    hadoopImage = built.tag
    const [inspected] = JSON.parse(await docker('image', 'inspect', built.tag)) as Array<{Id: string; Config: {User: string; Entrypoint: string[]}}>
    expect(inspected!.Id).toBe(built.id)
    expect(inspected!.Config.User).toBe('185')
    expect(inspected!.Config.Entrypoint).toEqual(['/usr/bin/tini', '-g', '--', '/opt/entrypoint.sh'])
    const id = built.id.replace(/^sha256:/, '').slice(0, 16)
    for (const node of nodes) expect(await ctrImages(node)).toMatch(new RegExp(`docker\\.io/cms/hadoop:${built.hadoopVersion.replace(/\./g, '\\.')} .*cms\\.image-id=${id}`))

    const pods = JSON.parse(await kubectl('-n', 'cms-hdfs', 'get', 'pods', '-o', 'json')).items as PodInfo[]
    const running = (role: string) => pods.filter((p) => p.metadata.labels['cms.hdfs/role'] === role && p.status.phase === 'Running')
    expect(running('namenode').map((p) => p.spec.nodeName)).toEqual([head])
    expect(running('datanode').map((p) => p.spec.nodeName).sort()).toEqual([...nodes].sort())
    // The NameNode's own figures, through the API server's proxy to its pod.
    const jmx = JSON.parse(await kubectl('get', '--raw', '/api/v1/namespaces/cms-hdfs/pods/hdfs-namenode-0:9870/proxy/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo')) as {beans: Array<{LiveNodes: string; Safemode: string; Total: number}>}
    const bean = jmx.beans[0]!
    expect(bean.Safemode).toBe('')
    expect(Object.keys(JSON.parse(bean.LiveNodes))).toHaveLength(nodes.length)
    const info = JSON.parse((await cms(['cluster', 'info', '-n', NAME, '--json'], env)).stdout) as {health: string; hdfs: {liveDataNodes: number; capacityBytes: number}}
    expect(info).toMatchObject({health: 'healthy', hdfs: {liveDataNodes: nodes.length, capacityBytes: bean.Total}})
    // The tunnel forwards the NameNode's web UI and /jmx to this machine.
    const tunneled = await cms(['cluster', 'tunnel', '-n', NAME, '--', 'sh', '-c', 'curl -fsS "$CMS_NAMENODE_URL/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo"'], env, {timeoutMs: 120_000})
    expect(tunneled.code, tunneled.stderr).toBe(0)
    expect(Object.keys(JSON.parse((JSON.parse(tunneled.stdout) as typeof jmx).beans[0]!.LiveNodes))).toHaveLength(nodes.length)
  })

  it.skipIf(!HADOOP_DIST)('the Hadoop image runs YARN too: a NodeManager container registers with a ResourceManager container', async () => {
    const image = hadoopImage
    const net = `${NAME}-yarn`
    const [rm, nm] = [`${NAME}-rm`, `${NAME}-nm`]
    await docker('network', 'create', net)
    try {
      await docker('run', '-d', '--name', rm, '--hostname', rm, '--network', net, '-e', 'HADOOP_HEAPSIZE_MAX=256m', image, 'resourcemanager')
      await docker('run', '-d', '--name', nm, '--network', net, '-e', `HADOOP_RESOURCEMANAGER=${rm}`, '-e', 'HADOOP_HEAPSIZE_MAX=256m', '-e', 'YARN_NODEMANAGER_MEMORY_MB=1024', image, 'nodemanager')
      let nodes = ''
      for (let i = 0; i < 30 && !/Total Nodes:1\b/.test(nodes); i++) {
        await new Promise((r) => setTimeout(r, 4000))
        nodes = await docker('exec', rm, 'yarn', 'node', '-list', '-states', 'RUNNING').catch(() => '')
      }
      expect(nodes).toMatch(/Total Nodes:1\b/)
      expect(nodes).toMatch(/\sRUNNING\s/)
    } finally {
      await docker('rm', '-f', rm, nm).catch(() => undefined)
      await docker('network', 'rm', net).catch(() => undefined)
    }
  })

  it.skipIf(!HADOOP_DIST)('--hdfs: a word count spec reads its input from hdfs:// and writes its output there', async () => {
    writeFileSync(join(work, 'input.txt'), 'to be or not to be\nthat is the question to be\n')
    const put = await cms(['cluster', 'put', '-n', NAME, join(work, 'input.txt'), '/tmp/wc/input.txt'], env, {timeoutMs: 120_000})
    expect(put.code, put.stderr).toBe(0)
    copyFileSync(join(ROOT, 'test/e2e/fixtures/wordcount.py'), join(work, 'wordcount.py'))
    // The input without a scheme: the cluster's HDFS is the default file system of Spark's pods.
    writeFileSync(join(work, 'wc.yaml'), ['app: wordcount.py', 'args: [/tmp/wc/input.txt, hdfs:///tmp/wc/out]', 'driver: {memory: 512m}', 'executor: {instances: 1, cores: 1, memory: 512m}'].join('\n'))
    const started = Date.now()
    const r = await cms(['cluster', 'submit', '-n', NAME, join(work, 'wc.yaml'), '--wait', '--json'], env, {timeoutMs: 600_000})
    expect(r.code, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as {jobs: Array<{state: string}>}).jobs[0]!.state).toBe('SUCCEEDED')
    console.log(`word count on HDFS: ${((Date.now() - started) / 1000).toFixed(1)} s`)
    // Read back from HDFS itself, inside the NameNode's pod.
    const hdfs = (...args: string[]) => kubectl('-n', 'cms-hdfs', 'exec', 'hdfs-namenode-0', '-c', 'namenode', '--', 'hdfs', 'dfs', ...args)
    expect(await hdfs('-ls', '/tmp/wc/out')).toContain('/tmp/wc/out/_SUCCESS')
    const text = await hdfs('-cat', '/tmp/wc/out/part-*')
    expect(Object.fromEntries(text.trim().split('\n').map((l) => l.split('\t')))).toEqual({to: '3', be: '3', or: '1', not: '1', that: '1', is: '1', the: '1', question: '1'})
  })
})
