import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {yarnJobCases, type YarnJobCluster} from './hadoop-jobs.cases.js'
import {notebookCases} from './notebook.cases.js'
import {s3SparkCases} from './s3-spark.cases.js'
import {cms, docker, labelledContainers, makeCmsHome, removeClusterContainers, sparkRuntimeHome, waitUntil} from './helpers.js'
import {clusterEvents, makeKey, piPyPath, startServer, taskForm, waitForTasks} from './serve-harness.js'

const NAME = 'e2e-hadoop'
const HADOOP_DIST = process.env.CMS_HADOOP_DIST
const CONF = `/root/.cms/clusters/${NAME}/hadoop-conf`

interface RmNode {
  id: string
  state: string
}

interface DataNodeEntry {
  xferaddr: string
  adminState: string
}

/** The ResourceManager's REST API on the head container (this test's host), asked directly. */
async function rm<T>(headIp: string, path: string): Promise<T> {
  const res = await fetch(`http://${headIp}:8088${path}`, {headers: {accept: 'application/json'}, signal: AbortSignal.timeout(15_000)})
  expect(res.status, path).toBe(200)
  return (await res.json()) as T
}

async function rmNodes(headIp: string): Promise<RmNode[]> {
  return (await rm<{nodes: {node?: RmNode[]} | null}>(headIp, '/ws/v1/cluster/nodes?states=RUNNING,DECOMMISSIONING,DECOMMISSIONED,LOST,SHUTDOWN,UNHEALTHY')).nodes?.node ?? []
}

/** The NameNode's own view of its DataNodes and safe mode, from its /jmx. */
async function namenode(headIp: string): Promise<{live: DataNodeEntry[]; dead: DataNodeEntry[]; safemode: string; clusterId: string}> {
  const res = await fetch(`http://${headIp}:9870/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo`, {signal: AbortSignal.timeout(15_000)})
  const bean = ((await res.json()) as {beans: Array<{LiveNodes: string; DeadNodes: string; Safemode: string; ClusterId: string}>}).beans[0]!
  return {live: Object.values(JSON.parse(bean.LiveNodes)), dead: Object.values(JSON.parse(bean.DeadNodes)), safemode: bean.Safemode, clusterId: bean.ClusterId}
}

/** WebHDFS on the head's NameNode, asked directly. */
async function webhdfs<T>(headIp: string, path: string, op: string): Promise<T> {
  const res = await fetch(`http://${headIp}:9870/webhdfs/v1${path}?op=${op}&user.name=root`, {signal: AbortSignal.timeout(15_000)})
  expect(res.status, `${op} ${path}`).toBe(200)
  return (await res.json()) as T
}

/** Runs an HDFS command on the head with the cluster's configuration (the runtime cms shipped). */
function hdfs(head: string, ...args: string[]): Promise<string> {
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
  return docker('exec', head, 'bash', '-c', `HADOOP_CONF_DIR=${CONF} HADOOP_ROOT_LOGGER=WARN,console /root/.cms/dist/*/hadoop-*/bin/hdfs ${quoted}`)
}

/** How many of the daemon's memory mappings are of a class data archive (hadoop.jsa): its JVM maps one it can use. */
async function classDataMappings(container: string, daemon: string): Promise<number> {
  return Number(await docker('exec', container, 'bash', '-c', `p=$(pgrep -f -- '-Dproc_${daemon} ' | head -n 1); grep -c '/hadoop\\.jsa$' /proc/$p/maps || true`))
}

describe.skipIf(!HADOOP_DIST)('hadoop engine on docker hosts', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  let headIp = ''
  let head = ''
  const yarn: YarnJobCluster = {name: NAME, env, home, headIp: ''}

  beforeAll(async () => {
    await removeClusterContainers(NAME)
  })

  afterAll(async () => {
    await removeClusterContainers(NAME)
    cleanup()
  })

  it('bad hadoop flags exit 2 before anything is made', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--head-compute', 'maybe'], /head-compute/],
      [['--hadoop-dist', '/nonexistent/hadoop.tgz'], /Hadoop distribution not found: \/nonexistent\/hadoop.tgz/],
      [['--head-compute', 'false', '--hosts', '1'], /--head-compute=false needs at least one host besides the head/],
    ]
    for (const [flags, message] of cases) {
      const r = await cms(['cluster', 'create', '-n', NAME, '-e', 'hadoop', ...flags], env)
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toMatch(message)
    }
    expect(await labelledContainers(NAME)).toHaveLength(0)
  })

  it('create: the NameNode reports every DataNode live and is out of safe mode; the ResourceManager every NodeManager RUNNING', async () => {
    const r = await cms(['cluster', 'create', '-n', NAME, '-e', 'hadoop', '--hosts', '2', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const containers = await labelledContainers(NAME)
    expect(containers).toHaveLength(2)
    const h = containers.find((c) => c.role === 'head')!
    headIp = h.ip
    head = h.name
    yarn.headIp = headIp
    const ips = containers.map((c) => c.ip).sort()
    const nn = await namenode(headIp)
    expect(nn.safemode).toBe('')
    expect(nn.live.map((d) => d.xferaddr.replace(/:\d+$/, '')).sort()).toEqual(ips)
    expect(nn.live.every((d) => d.adminState === 'In Service')).toBe(true)
    const nodes = await rmNodes(headIp)
    // NodeManagers register under their private address, which every host reaches (not a name only some resolve).
    expect(nodes.filter((n) => n.state === 'RUNNING').map((n) => n.id.replace(/:\d+$/, '')).sort()).toEqual(ips)
    expect((await rm<{clusterInfo: {state: string}}>(headIp, '/ws/v1/cluster/info')).clusterInfo.state).toBe('STARTED')
    const report = JSON.parse(r.stdout)
    expect(report.cluster.health).toBe('healthy')
    // Spark is unpacked on the head only: its jars are one archive in HDFS, world-readable (YARN's public cache).
    const [runtime] = (await webhdfs<{FileStatuses: {FileStatus: Array<{pathSuffix: string}>}}>(headIp, '/cms/spark', 'LISTSTATUS')).FileStatuses.FileStatus
    const files = (await webhdfs<{FileStatuses: {FileStatus: Array<{pathSuffix: string; length: number; permission: string; replication: number}>}}>(headIp, `/cms/spark/${runtime!.pathSuffix}`, 'LISTSTATUS')).FileStatuses.FileStatus
    const jars = files.find((f) => f.pathSuffix === 'spark-jars.tar')!
    expect(jars.length).toBeGreaterThan(100 << 20)
    expect(jars.permission).toBe('644')
    // Written as one replica, then given the cluster's factor (two DataNodes: 2), which HDFS makes in the background.
    expect(files.map((f) => f.replication)).toEqual(files.map(() => 2))
    expect(files.map((f) => f.pathSuffix)).toContain('pyspark.zip')
    for (const c of containers) {
      const spark = await docker('exec', c.name, 'sh', '-c', 'ls -d /root/.cms/dist/*/spark-* 2>/dev/null | wc -l')
      expect(spark, c.name).toBe(c.role === 'head' ? '1' : '0')
    }
    // The class data archive for the hosts' Java: made on the head by this create (or an earlier one, and then
    // shipped and mapped by every daemon), kept on this machine, and nothing of the dump left on the head.
    const kept = execFileSync('bash', ['-c', 'ls "${CMS_DIST_CACHE:-$HOME/.cache/cms/dist}"/hadoop-class-data/*/*.tgz 2>/dev/null || true'], {encoding: 'utf8'})
    expect(kept).toMatch(/\.tgz$/m)
    expect(await docker('exec', head, 'sh', '-c', `ls /root/.cms/clusters/${NAME}/data`)).not.toMatch(/class-data/)
  })

  it('binds every listener to the private address (but the MapReduce shuffle port, which Hadoop cannot bind)', async () => {
    const listeners = (await docker('exec', head, 'sh', '-c', "ss -ltnH | awk '{print $4}'")).split('\n').filter(Boolean)
    // sshd, loopback-only listeners (Docker's DNS, the DataNode's internal web server) and the shuffle handler aside.
    const reachable = listeners.filter((l) => !l.endsWith(':22') && !l.startsWith('127.') && !l.endsWith(':13562'))
    expect(reachable.length).toBeGreaterThanOrEqual(12)
    for (const l of reachable) expect(l, listeners.join(' ')).toBe(`${headIp}:${l.split(':').at(-1)}`)
  })

  it('info and list report HDFS and YARN as the NameNode and the ResourceManager do', async () => {
    const info = JSON.parse((await cms(['cluster', 'info', '-n', NAME, '--json'], env)).stdout)
    const metrics = (await rm<{clusterMetrics: {totalMB: number; totalVirtualCores: number}}>(headIp, '/ws/v1/cluster/metrics')).clusterMetrics
    expect(info.engine).toBe('hadoop')
    expect(info.health).toBe('healthy')
    expect(info.hdfs.liveDataNodes).toBe((await namenode(headIp)).live.length)
    expect(info.yarn.memoryMb).toBe(metrics.totalMB)
    expect(info.yarn.vcores).toBe(metrics.totalVirtualCores)
    expect(info.hosts.every((x: {datanode?: {state: string}; nodemanager?: {state: string}}) => x.datanode?.state === 'live' && x.nodemanager?.state === 'RUNNING')).toBe(true)
    const list = JSON.parse((await cms(['cluster', 'list', '--json'], env)).stdout)
    const entry = list.clusters.find((c: {name: string}) => c.name === NAME)
    expect(entry).toMatchObject({engine: 'hadoop', aliveWorkers: 2, liveDataNodes: 2, cores: metrics.totalVirtualCores})
  })

  it('a rerun of create keeps HDFS (formatted once) and restarts nothing', async () => {
    await docker('exec', head, 'sh', '-c', 'echo cms-hdfs-data > /tmp/keep.txt')
    await hdfs(head, 'dfs', '-put', '-f', '/tmp/keep.txt', '/keep.txt')
    const before = await namenode(headIp)
    const pid = await docker('exec', head, 'cat', `/root/.cms/clusters/${NAME}/run/namenode.pid`)
    const r = await cms(['cluster', 'create', '-n', NAME, '-e', 'hadoop', '--hosts', '2', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    expect((await namenode(headIp)).clusterId).toBe(before.clusterId)
    expect(await docker('exec', head, 'cat', `/root/.cms/clusters/${NAME}/run/namenode.pid`)).toBe(pid)
    expect((await hdfs(head, 'dfs', '-cat', '/keep.txt')).trim()).toBe('cms-hdfs-data')
    // Spark went into its unpack on the head as it arrived (no other host needs it): the rerun uploads no copy of
    // its archive there, and so does \`add\` below, which has no local Spark archive to send.
    const spark = (await webhdfs<{FileStatuses: {FileStatus: Array<{pathSuffix: string}>}}>(headIp, '/cms/spark', 'LISTSTATUS')).FileStatuses.FileStatus.map((f) => f.pathSuffix)
    expect(spark).toHaveLength(1)
    expect((await docker('exec', head, 'ls', '/root/.cms/dist')).split('\n')).not.toContain(`${spark[0]}.tgz`)
  })

  it('put streams local files into HDFS and get brings them back; an existing target stops both unless --force', async () => {
    const local = mkdtempSync(join(tmpdir(), 'cms-e2e-put-'))
    mkdirSync(join(local, 'in', 'sub'), {recursive: true})
    const big = randomBytes(3_000_000)
    writeFileSync(join(local, 'in', 'big.bin'), big)
    writeFileSync(join(local, 'in', 'sub', 'a.txt'), 'cms-put\n')
    const put = await cms(['cluster', 'put', '-n', NAME, join(local, 'in'), '/put-test', '--json'], env)
    expect(put.code, put.stderr).toBe(0)
    // What the NameNode itself lists, and what a DataNode serves (WebHDFS from this test, to the head's private address).
    const listed = await webhdfs<{FileStatuses: {FileStatus: Array<{pathSuffix: string; type: string; length: number; modificationTime: number}>}}>(headIp, '/put-test', 'LISTSTATUS')
    expect(listed.FileStatuses.FileStatus.map((f) => `${f.pathSuffix} ${f.type} ${f.length}`).sort()).toEqual(['big.bin FILE 3000000', 'sub DIRECTORY 0'])
    const opened = await fetch(`http://${headIp}:9870/webhdfs/v1/put-test/big.bin?op=OPEN&user.name=root`, {signal: AbortSignal.timeout(30_000)})
    expect(Buffer.from(await opened.arrayBuffer()).equals(big)).toBe(true)
    const again = await cms(['cluster', 'put', '-n', NAME, join(local, 'in', 'big.bin'), '/put-test/big.bin'], env)
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/\/put-test\/big.bin already exists in HDFS \(--force replaces it\)/)
    const mtime = (await webhdfs<{FileStatus: {modificationTime: number}}>(headIp, '/put-test/big.bin', 'GETFILESTATUS')).FileStatus.modificationTime
    expect(mtime).toBe(listed.FileStatuses.FileStatus.find((f) => f.pathSuffix === 'big.bin')!.modificationTime)
    const got = await cms(['cluster', 'get', '-n', NAME, '/put-test', join(local, 'out'), '--json'], env)
    expect(got.code, got.stderr).toBe(0)
    expect(readFileSync(join(local, 'out', 'big.bin')).equals(big)).toBe(true)
    expect(readFileSync(join(local, 'out', 'sub', 'a.txt'), 'utf8')).toBe('cms-put\n')
    expect((await cms(['cluster', 'get', '-n', NAME, '/put-test/big.bin', join(local, 'out')], env)).code).toBe(2)
    rmSync(local, {recursive: true, force: true})
  })

  // Jobs on YARN, on this cluster; s3a:// paths from them.
  yarnJobCases(yarn)
  s3SparkCases({name: NAME, home, engine: 'hadoop'})
  notebookCases({
    title: 'cms notebook: JupyterLab on the head, its PySpark in YARN client mode',
    name: NAME,
    env,
    hosts: () => ({headIp, head, ips: []}),
    // The ResourceManager runs the notebook's application: its ExecutorLauncher and at least one executor.
    executors: async ({headIp}) => {
      const apps = (await rm<{apps: {app?: Array<{applicationType: string; runningContainers: number}>} | null}>(headIp, '/ws/v1/cluster/apps?states=RUNNING')).apps?.app ?? []
      const spark = apps.filter((a) => a.applicationType === 'SPARK')
      expect(spark).toHaveLength(1)
      expect(spark[0]!.runningContainers).toBeGreaterThanOrEqual(2)
    },
    diagnose: async ({headIp}) => {
      const apps = (await rm<{apps: {app?: Array<Record<string, unknown>>} | null}>(headIp, '/ws/v1/cluster/apps?states=NEW,NEW_SAVING,SUBMITTED,ACCEPTED,RUNNING')).apps?.app ?? []
      const metrics = await rm<{clusterMetrics: Record<string, unknown>}>(headIp, '/ws/v1/cluster/metrics')
      const fields = ['id', 'name', 'state', 'runningContainers', 'allocatedMB', 'diagnostics'] as const
      return JSON.stringify({apps: apps.map((a) => Object.fromEntries(fields.map((f) => [f, a[f]]))), metrics: metrics.clusterMetrics})
    },
  })

  it('tunnel: a local hdfs, yarn and spark-submit --master yarn (the same runtimes, unpacked here) use the configuration it writes, through its SOCKS proxy', async () => {
    const local = mkdtempSync(join(tmpdir(), 'cms-e2e-hadoop-client-'))
    execFileSync('tar', ['-xzf', HADOOP_DIST!, '-C', local])
    const bin = join(local, `hadoop-${process.env.CMS_HADOOP_VERSION ?? '3.4.3'}`, 'bin')
    writeFileSync(join(local, 'from-here.txt'), 'through the tunnel\n')
    const script = [
      'set -e',
      `${bin}/hdfs dfs -mkdir -p /tunnel`,
      `${bin}/hdfs dfs -put -f ${join(local, 'from-here.txt')} /tunnel/from-here.txt`,
      `${bin}/hdfs dfs -cat /keep.txt`,
      `${bin}/yarn node -list 2>/dev/null | grep -c RUNNING`,
      // The proxy reaches the cluster's hosts only.
      'curl -s -o /dev/null --max-time 5 --socks5 "127.0.0.1:${HADOOP_OPTS##*socksProxyPort=}" http://127.0.0.1:9/ || echo refused',
    ].join('\n')
    const r = await cms(['cluster', 'tunnel', '-n', NAME, '--', 'bash', '-c', script], env, {timeoutMs: 180_000})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['cms-hdfs-data', '2', 'refused'])
    const opened = await fetch(`http://${headIp}:9870/webhdfs/v1/tunnel/from-here.txt?op=OPEN&user.name=root`, {signal: AbortSignal.timeout(15_000)})
    expect(await opened.text()).toBe('through the tunnel\n')
    const status = await webhdfs<{FileStatus: {owner: string; replication: number}}>(headIp, '/tunnel/from-here.txt', 'GETFILESTATUS')
    expect(status.FileStatus).toMatchObject({owner: 'root', replication: 2})

    // A stock spark-submit on this machine (the cluster's Spark version, unpacked here): pi.py in cluster mode on
    // YARN; it waits for the application and exits with its result. Its driver's output, read with the local yarn.
    const spark = sparkRuntimeHome()
    const submit = await cms(['cluster', 'tunnel', '-n', NAME, '--', join(spark, 'bin', 'spark-submit'), '--name', 'pi-from-here', join(spark, 'examples', 'src', 'main', 'python', 'pi.py'), '4'], env, {timeoutMs: 300_000})
    expect(submit.code, submit.stderr.slice(-3000)).toBe(0)
    const apps = (await rm<{apps: {app?: Array<{id: string; name: string; state: string; finalStatus: string; applicationType: string}>} | null}>(headIp, '/ws/v1/cluster/apps')).apps?.app ?? []
    const pi = apps.filter((a) => a.name === 'pi-from-here')
    expect(pi).toHaveLength(1)
    expect(pi[0]).toMatchObject({state: 'FINISHED', finalStatus: 'SUCCEEDED', applicationType: 'SPARK'})
    // YARN aggregates an application's logs into HDFS a few seconds after it ended: ask again, 20 times at most.
    const readLogs = `for i in $(seq 20); do ${bin}/yarn logs -applicationId ${pi[0]!.id} -log_files stdout 2>/dev/null | grep 'Pi is roughly' && exit 0; sleep 3; done; exit 1`
    const logs = await cms(['cluster', 'tunnel', '-n', NAME, '--', 'bash', '-c', readLogs], env, {timeoutMs: 180_000})
    expect(logs.code, logs.stderr.slice(-2000)).toBe(0)
    expect(logs.stdout).toMatch(/^Pi is roughly 3\.1/m)
    rmSync(local, {recursive: true, force: true})
  })

  it('add joins a DataNode and a NodeManager; remove decommissions them first, and HDFS keeps every block', async () => {
    const added = await cms(['cluster', 'add', '-n', NAME, '--hosts', '1', '--json'], env)
    expect(added.code, added.stderr).toBe(0)
    const third = (await labelledContainers(NAME)).find((c) => c.name.endsWith('-3'))!
    expect((await rmNodes(headIp)).filter((n) => n.state === 'RUNNING')).toHaveLength(3)
    // The new host's JVMs start from the class data archive the create kept.
    expect(await classDataMappings(third.name, 'datanode')).toBeGreaterThan(0)
    expect(await classDataMappings(third.name, 'nodemanager')).toBeGreaterThan(0)
    expect((await namenode(headIp)).live.map((d) => d.xferaddr.replace(/:\d+$/, ''))).toContain(third.ip)
    // Written from the new host: HDFS puts the first replica of every block on the writer's own DataNode.
    await docker('exec', third.name, 'sh', '-c', 'head -c 3000000 /dev/urandom > /tmp/blocks.bin')
    await hdfs(third.name, 'dfs', '-D', 'dfs.blocksize=1048576', '-put', '-f', '/tmp/blocks.bin', '/blocks.bin')
    const locations = await hdfs(head, 'fsck', '/blocks.bin', '-files', '-blocks', '-locations')
    expect(locations.match(new RegExp(`DatanodeInfoWithStorage\\[${third.ip.replace(/\./g, '\\.')}:`, 'g'))).toHaveLength(3)
    const md5 = (host: string, cmd: string) => docker('exec', host, 'sh', '-c', `${cmd} | md5sum`)
    const written = await md5(third.name, 'cat /tmp/blocks.bin')
    const removed = await cms(['cluster', 'remove', '-n', NAME, third.name, '--json'], env)
    expect(removed.code, removed.stderr).toBe(0)
    const nn = await namenode(headIp)
    const gone = [...nn.live, ...nn.dead].find((d) => d.xferaddr.startsWith(`${third.ip}:`))
    expect(gone?.adminState).toBe('Decommissioned')
    const nm = (await rmNodes(headIp)).find((n) => n.id.startsWith(`${third.ip}:`))
    expect(nm?.state).toBe('DECOMMISSIONED')
    const fsck = await hdfs(head, 'fsck', '/blocks.bin')
    expect(fsck).toMatch(/is HEALTHY/)
    // Replication 2 (fixed at create for 2 hosts): the 2 hosts left hold both copies of every block.
    expect(fsck).toMatch(/Under-replicated blocks:\s+0\b/)
    expect(fsck).toMatch(/Missing blocks:\s+0\b/)
    expect(await md5(head, `HADOOP_CONF_DIR=${CONF} /root/.cms/dist/*/hadoop-*/bin/hdfs dfs -cat /blocks.bin`)).toBe(written)
    expect(JSON.parse((await cms(['cluster', 'info', '-n', NAME, '--json'], env)).stdout).health).toBe('healthy')
  })

  it('cms serve admits Spark-on-YARN tasks by the ResourceManager\'s figures and grows and shrinks the cluster with the queue', async () => {
    const key = await makeKey(env, 'yarn-ci', 'submit')
    const before = new Set((await labelledContainers(NAME)).map((c) => c.name))
    const server = await startServer(env, ['--cluster', NAME, '--autoscale', `${NAME}:min=2,max=3,idle=15s,wait=3s`])
    try {
      const metrics = (await rm<{clusterMetrics: {totalVirtualCores: number; totalMB: number}}>(headIp, '/ws/v1/cluster/metrics')).clusterMetrics
      const coresPerHost = metrics.totalVirtualCores / 2
      // More than 3 hosts could ever give: it waits, naming YARN's own totals, and does not grow the cluster.
      const huge = await server.call('POST', '/task', {key, json: {cluster: NAME, spec: {name: 'yarn-huge', app: 'https://example.invalid/x.py', executor: {instances: 10 * coresPerHost, cores: 1, memory: '512m'}}}})
      expect(huge.status, huge.text).toBe(201)
      let reason = ''
      await waitUntil('the big task to say why it waits', async () => /has in all/.test((reason = (await server.call('GET', `/task/${huge.body.id}`, {key})).body.queue?.waitingFor ?? '')), 60_000)
      expect(reason).toContain(`more than ${NAME} has in all (${metrics.totalVirtualCores} cores and ${metrics.totalMB} MiB)`)
      // The ApplicationMaster's core and one more executor than 2 hosts have cores: room only on a third host.
      const spec = {name: 'yarn-grow', app: 'pi.py', args: ['4'], executor: {instances: 2 * coresPerHost, cores: 1, memory: '512m'}, driver: {memory: '512m'}}
      const grow = await server.call('POST', '/task', {key, form: taskForm({cluster: NAME, spec}, {'pi.py': readFileSync(piPyPath(join(home, 'serve-yarn')))})})
      expect(grow.status, grow.text).toBe(201)
      // The ResourceManager registers a third NodeManager, the task's application runs on YARN and succeeds.
      await waitUntil('a third RUNNING NodeManager', async () => (await rmNodes(headIp)).filter((n) => n.state === 'RUNNING').length === 3, 240_000)
      const grownTo = await labelledContainers(NAME)
      expect(grownTo.filter((c) => !before.has(c.name))).toHaveLength(1)
      const [done] = await waitForTasks(server, key, [grow.body.id], ['SUCCEEDED', 'DEAD', 'KILLED'], 300_000)
      expect(done.state).toBe('SUCCEEDED')
      // The attempt's job on YARN: the application tagged with its cms job id.
      const tag = `cms-job-${done.attempts.at(-1).engineJobId as string}`.toLowerCase()
      const apps = (await rm<{apps: {app?: Array<{state: string; finalStatus: string}>} | null}>(headIp, `/ws/v1/cluster/apps?applicationTags=${encodeURIComponent(tag)}`)).apps?.app ?? []
      expect(apps).toHaveLength(1)
      expect(apps[0]).toMatchObject({state: 'FINISHED', finalStatus: 'SUCCEEDED'})
      // Idle for 15 s: a worker (the one idle first: the new host or the other) is decommissioned by YARN and HDFS,
      // and removed; the cluster is back to 2 hosts, the head one of them.
      await waitUntil('the cluster to shrink to 2 hosts', async () => (await labelledContainers(NAME)).length === 2, 300_000)
      const left = new Set((await labelledContainers(NAME)).map((c) => c.name))
      const removed = grownTo.filter((c) => !left.has(c.name))
      expect(removed).toHaveLength(1)
      expect(left.has(head)).toBe(true)
      const gone = removed[0]!
      const shrunk = clusterEvents(home, NAME).map((e) => `${e.kind}: ${e.detail}`).join('\n')
      expect(shrunk).toMatch(new RegExp(`^shrunk: removed ${gone.name} in `, 'm'))
      expect((await rmNodes(headIp)).find((n) => n.id.startsWith(`${gone.ip}:`))?.state, shrunk).toBe('DECOMMISSIONED')
      const nn = await namenode(headIp)
      expect([...nn.live, ...nn.dead].find((d) => d.xferaddr.startsWith(`${gone.ip}:`))?.adminState, shrunk).toBe('Decommissioned')
      expect((await server.call('DELETE', `/task/${huge.body.id}`, {key})).status).toBe(200)
    } finally {
      await server.stop()
    }
    expect(clusterEvents(home, NAME).map((e) => e.kind)).toEqual(['grow', 'grown', 'shrink', 'shrunk'])
  })

  it('kill leaves no container', async () => {
    const r = await cms(['cluster', 'kill', '-n', NAME, '--yes'], env)
    expect(r.code, r.stderr).toBe(0)
    await waitUntil('the containers are gone', async () => (await labelledContainers(NAME)).length === 0, 30_000)
  })
})
