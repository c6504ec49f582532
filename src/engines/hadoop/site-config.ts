import {isIP} from 'node:net'
import {renderConfiguration} from './xml.js'

/**
 * The Hadoop configuration cms writes on every host of a hadoop cluster (pure: the engine uploads the text):
 * core-site.xml, hdfs-site.xml, yarn-site.xml, mapred-site.xml, capacity-scheduler.xml and log4j.properties.
 *
 * The NameNode and ResourceManager run on the head; a DataNode and a NodeManager run on the hosts that compute.
 * Every listener of every daemon is bound to its host's private address (Hadoop's defaults bind 0.0.0.0), and
 * peers find each other by address, not by name: hosts' names need not resolve between hosts. Hadoop's "simple"
 * authentication trusts the user name a client claims, so none of this may be reachable from outside the
 * cluster's private network. One listener cannot be bound: the MapReduce shuffle handler (a NodeManager
 * aux-service) listens on mapreduce.shuffle.port on every interface; Hadoop has no setting for its address.
 *
 * The runtime is the archive scripts/hadoop-dist.sh builds: one home (HADOOP_HOME) with every jar in
 * share/hadoop/lib and the HDFS webapps under share/hadoop/hdfs, so the application classpaths below name those.
 */

/** Hadoop 3's default ports; every host of a cluster uses the same ones. */
export const HADOOP_PORTS = {
  namenodeRpc: 8020,
  namenodeHttp: 9870,
  namenodeHttps: 9871,
  secondaryHttp: 9868,
  secondaryHttps: 9869,
  datanode: 9866,
  datanodeHttp: 9864,
  datanodeHttps: 9865,
  datanodeIpc: 9867,
  resourceManager: 8032,
  scheduler: 8030,
  resourceTracker: 8031,
  rmAdmin: 8033,
  rmHttp: 8088,
  rmHttps: 8090,
  nodeManager: 8041,
  localizer: 8040,
  nmHttp: 8042,
  nmHttps: 8044,
  nmCollector: 8048,
  shuffle: 13562,
  jobHistory: 10020,
  jobHistoryHttp: 19888,
} as const

export type HadoopPorts = {[K in keyof typeof HADOOP_PORTS]: number}

/** Absolute paths on the host; each list holds at least one folder. */
export interface HadoopDirs {
  /** hadoop.tmp.dir. */
  tmp: string
  /** The NameNode's metadata (used on the head). */
  name: string
  /** The DataNode's block folders. */
  data: string[]
  /** The NodeManager's local folders (localized files, containers' working folders). */
  nmLocal: string[]
  /** The NodeManager's containers' logs until they are aggregated to HDFS. */
  nmLog: string
  /** The configuration folder (HADOOP_CONF_DIR): the decommission exclude files live there. */
  conf: string
}

export interface HadoopSiteInput {
  /** The cms cluster name (the ResourceManager's cluster id). */
  cluster: string
  /** The head's private address: the NameNode's and ResourceManager's. */
  headAddress: string
  /** This host's private address: every daemon on it binds here. */
  privateAddress: string
  /** The unpacked runtime on the hosts (the same path on every host): MapReduce tasks' HADOOP_MAPRED_HOME. */
  hadoopHome: string
  dirs: HadoopDirs
  /** This host's memory and cores: the NodeManager offers what the host's daemons leave (YARN only). */
  hostMemoryMb?: number
  hostCores?: number
  /** Whether this host is the head (it also runs the NameNode and the ResourceManager). */
  isHead: boolean
  /** How many DataNodes the cluster has: the replication factor follows. */
  datanodes: number
  ports?: HadoopPorts
}

/** The files of HADOOP_CONF_DIR, by name. */
export type HadoopConfFiles = Record<string, string>

/** The exclude files that decommission DataNodes (dfs.hosts.exclude) and NodeManagers (RM nodes.exclude-path). */
export function excludeFiles(confDir: string): {hdfs: string; yarn: string} {
  return {hdfs: `${confDir}/dfs.exclude`, yarn: `${confDir}/yarn.exclude`}
}

/** Three copies of every block, or one per DataNode when there are fewer. */
export function replicationFor(datanodes: number): number {
  if (!Number.isInteger(datanodes) || datanodes < 1) throw new Error(`a hadoop cluster needs at least one DataNode, not ${datanodes}`)
  return Math.min(3, datanodes)
}

/** Memory the host keeps for its own daemons and the OS (MB): DataNode and NodeManager, plus NameNode and RM on the head. */
export function reservedMemoryMb(isHead: boolean): number {
  const os = 512
  const worker = 256 + 256
  return os + worker + (isHead ? 512 + 512 : 0)
}

/** What the NodeManager offers YARN: the host's memory less its daemons' (at least 512 MB, in 128 MB steps), every core. */
export function nodeManagerResources(hostMemoryMb: number, hostCores: number, isHead: boolean): {memoryMb: number; vcores: number} {
  if (!Number.isInteger(hostMemoryMb) || hostMemoryMb < 1) throw new Error(`invalid host memory ${hostMemoryMb} MB`)
  if (!Number.isInteger(hostCores) || hostCores < 1) throw new Error(`invalid host cores ${hostCores}`)
  const free = Math.floor((hostMemoryMb - reservedMemoryMb(isHead)) / 128) * 128
  return {memoryMb: Math.max(512, free), vcores: hostCores}
}

/** The smallest container YARN hands out (MB); requests round up to a multiple of it. */
export const MIN_ALLOCATION_MB = 256

/** One first attempt and up to 10 retries (the job spec's limit). */
export const MAX_AM_ATTEMPTS = 11

/** The highest application priority YARN accepts (its default, 0, would flatten every priority). */
export const MAX_APPLICATION_PRIORITY = 10

export function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`
}

function fileUri(path: string): string {
  return `file://${path}`
}

/** HDFS's URI on the cluster: the NameNode's RPC address on the head. */
export function namenodeUri(headAddress: string, ports: HadoopPorts = HADOOP_PORTS): string {
  return `hdfs://${hostPort(headAddress, ports.namenodeRpc)}`
}

export function renderCoreSite(input: HadoopSiteInput): string {
  validate(input)
  const ports = input.ports ?? HADOOP_PORTS
  return renderConfiguration([
    // Final: a client outside the cluster (spark-submit through `cms cluster tunnel`) ships its own configuration with
    // its application, naming WebHDFS and RPC through the tunnel's SOCKS proxy; on the cluster's hosts these stay.
    ['fs.defaultFS', namenodeUri(input.headAddress, ports), 'final'],
    ['hadoop.rpc.socket.factory.class.default', 'org.apache.hadoop.net.StandardSocketFactory', 'final'],
    ['hadoop.tmp.dir', input.dirs.tmp],
  ])
}

export function renderHdfsSite(input: HadoopSiteInput): string {
  validate(input)
  const ports = input.ports ?? HADOOP_PORTS
  const head = input.headAddress
  const own = input.privateAddress
  return renderConfiguration([
    ['dfs.namenode.name.dir', fileUri(input.dirs.name)],
    ['dfs.datanode.data.dir', input.dirs.data.map(fileUri).join(',')],
    ['dfs.replication', replicationFor(input.datanodes)],
    // DataNodes register by address; their names need not resolve on the head.
    ['dfs.namenode.datanode.registration.ip-hostname-check', false],
    ['dfs.hosts.exclude', excludeFiles(input.dirs.conf).hdfs],
    // The NameNode, on the head: its bind hosts are the head's address too (on other hosts they are unused).
    ['dfs.namenode.rpc-address', hostPort(head, ports.namenodeRpc)],
    ['dfs.namenode.rpc-bind-host', head],
    ['dfs.namenode.servicerpc-bind-host', head],
    ['dfs.namenode.lifeline.rpc-bind-host', head],
    ['dfs.namenode.http-address', hostPort(head, ports.namenodeHttp)],
    ['dfs.namenode.http-bind-host', head],
    ['dfs.namenode.https-address', hostPort(head, ports.namenodeHttps)],
    ['dfs.namenode.https-bind-host', head],
    // No secondary NameNode runs; its addresses still name the head rather than 0.0.0.0.
    ['dfs.namenode.secondary.http-address', hostPort(head, ports.secondaryHttp)],
    ['dfs.namenode.secondary.https-address', hostPort(head, ports.secondaryHttps)],
    // This host's DataNode.
    ['dfs.datanode.hostname', own],
    ['dfs.datanode.address', hostPort(own, ports.datanode)],
    ['dfs.datanode.http.address', hostPort(own, ports.datanodeHttp)],
    ['dfs.datanode.https.address', hostPort(own, ports.datanodeHttps)],
    ['dfs.datanode.ipc.address', hostPort(own, ports.datanodeIpc)],
    // Small clusters: leave safe mode 5 s after enough blocks reported (not 30), check decommissions every 5 s.
    ['dfs.namenode.safemode.extension', 5000],
    ['dfs.namenode.decommission.interval', 5],
  ])
}

export function renderYarnSite(input: HadoopSiteInput): string {
  validate(input)
  const ports = input.ports ?? HADOOP_PORTS
  const head = input.headAddress
  const own = input.privateAddress
  const nm = nodeManagerResources(input.hostMemoryMb ?? 0, input.hostCores ?? 0, input.isHead)
  return renderConfiguration([
    ['yarn.resourcemanager.cluster-id', input.cluster],
    // The ResourceManager, on the head.
    ['yarn.resourcemanager.hostname', head],
    ['yarn.resourcemanager.bind-host', head],
    ['yarn.resourcemanager.address', hostPort(head, ports.resourceManager)],
    ['yarn.resourcemanager.scheduler.address', hostPort(head, ports.scheduler)],
    ['yarn.resourcemanager.resource-tracker.address', hostPort(head, ports.resourceTracker)],
    ['yarn.resourcemanager.admin.address', hostPort(head, ports.rmAdmin)],
    ['yarn.resourcemanager.webapp.address', hostPort(head, ports.rmHttp)],
    ['yarn.resourcemanager.webapp.https.address', hostPort(head, ports.rmHttps)],
    ['yarn.resourcemanager.nodes.exclude-path', excludeFiles(input.dirs.conf).yarn],
    ['yarn.scheduler.minimum-allocation-mb', MIN_ALLOCATION_MB],
    ['yarn.cluster.max-application-priority', MAX_APPLICATION_PRIORITY],
    // A job's retries are its ApplicationMaster's attempts (spark.yarn.maxAppAttempts): allow the spec's 10 retries.
    ['yarn.resourcemanager.am.max-attempts', MAX_AM_ATTEMPTS],
    // NodeManagers start with the ResourceManager, not after it: one that finds it not listening yet tries again
    // a second later (Hadoop's default waits 30 s).
    ['yarn.resourcemanager.connect.retry-interval.ms', 1000],
    // This host's NodeManager, bound to its address. It registers (its NodeId, which ApplicationMasters on other
    // hosts dial) under the name that address resolves to on this host, not the address itself: on hosts whose
    // names do not resolve between them, give its JVM a hosts file naming the address first (jdk.net.hosts.file).
    ['yarn.nodemanager.hostname', own],
    ['yarn.nodemanager.bind-host', own],
    ['yarn.nodemanager.address', hostPort(own, ports.nodeManager)],
    ['yarn.nodemanager.localizer.address', hostPort(own, ports.localizer)],
    ['yarn.nodemanager.webapp.address', hostPort(own, ports.nmHttp)],
    ['yarn.nodemanager.webapp.https.address', hostPort(own, ports.nmHttps)],
    ['yarn.nodemanager.collector-service.address', hostPort(own, ports.nmCollector)],
    ['yarn.nodemanager.resource.memory-mb', nm.memoryMb],
    ['yarn.nodemanager.resource.cpu-vcores', nm.vcores],
    ['yarn.nodemanager.local-dirs', input.dirs.nmLocal.join(',')],
    ['yarn.nodemanager.log-dirs', input.dirs.nmLog],
    ['yarn.nodemanager.aux-services', 'mapreduce_shuffle'],
    ['yarn.nodemanager.aux-services.mapreduce_shuffle.class', 'org.apache.hadoop.mapred.ShuffleHandler'],
    // JVMs reserve far more virtual memory than they use: the virtual memory check kills healthy containers.
    ['yarn.nodemanager.vmem-check-enabled', false],
    // Test hosts share one disk with the machine: a disk more than 90% full (the default) would mark nodes unhealthy.
    ['yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage', 98],
    // What containers inherit from the NodeManager (its launcher exports every one of these).
    ['yarn.nodemanager.env-whitelist', 'JAVA_HOME,HADOOP_COMMON_HOME,HADOOP_HDFS_HOME,HADOOP_CONF_DIR,CLASSPATH_PREPEND_DISTCACHE,HADOOP_YARN_HOME,HADOOP_HOME,HADOOP_MAPRED_HOME,PATH,LANG,TZ'],
    ['yarn.application.classpath', '$HADOOP_CONF_DIR,$HADOOP_HOME/share/hadoop/hdfs,$HADOOP_HOME/share/hadoop/lib/*'],
    // Containers' logs go to HDFS once an application ends (yarn logs, the RM's REST API), kept a week.
    ['yarn.log-aggregation-enable', true],
    ['yarn.nodemanager.remote-app-log-dir', '/tmp/logs'],
    ['yarn.log-aggregation.retain-seconds', 7 * 24 * 3600],
    ['yarn.timeline-service.enabled', false],
  ])
}

export function renderMapredSite(input: HadoopSiteInput): string {
  validate(input)
  const ports = input.ports ?? HADOOP_PORTS
  const home = `HADOOP_MAPRED_HOME=${input.hadoopHome}`
  return renderConfiguration([
    ['mapreduce.framework.name', 'yarn'],
    ['yarn.app.mapreduce.am.env', home],
    ['mapreduce.map.env', home],
    ['mapreduce.reduce.env', home],
    ['mapreduce.application.classpath', '$HADOOP_MAPRED_HOME/share/hadoop/lib/*'],
    // Small containers by default (heaps are 80% of them); a job's own -D settings override these.
    ['yarn.app.mapreduce.am.resource.mb', 512],
    ['mapreduce.map.memory.mb', 512],
    ['mapreduce.reduce.memory.mb', 512],
    ['mapreduce.shuffle.port', ports.shuffle],
    // No JobHistory server runs; its addresses still name the head rather than 0.0.0.0.
    ['mapreduce.jobhistory.address', hostPort(input.headAddress, ports.jobHistory)],
    ['mapreduce.jobhistory.webapp.address', hostPort(input.headAddress, ports.jobHistoryHttp)],
  ])
}

/** One queue, `default`, with the whole cluster; priorities up to MAX_APPLICATION_PRIORITY, memory and cores both counted. */
export function renderCapacityScheduler(): string {
  return renderConfiguration([
    ['yarn.scheduler.capacity.maximum-applications', 10000],
    // Half the cluster may run ApplicationMasters (the default, 10%, starves small clusters of drivers).
    ['yarn.scheduler.capacity.maximum-am-resource-percent', 0.5],
    ['yarn.scheduler.capacity.resource-calculator', 'org.apache.hadoop.yarn.util.resource.DominantResourceCalculator'],
    ['yarn.scheduler.capacity.root.queues', 'default'],
    ['yarn.scheduler.capacity.root.default.capacity', 100],
    ['yarn.scheduler.capacity.root.default.maximum-capacity', 100],
    ['yarn.scheduler.capacity.root.default.user-limit-factor', 1],
    ['yarn.scheduler.capacity.root.default.state', 'RUNNING'],
    ['yarn.scheduler.capacity.root.default.maximum-application-priority', MAX_APPLICATION_PRIORITY],
  ])
}

/**
 * Daemons log to stderr (cms redirects it to each daemon's log file); audit logs are off, as in the distribution;
 * the runtime has no native library, which is said once rather than on every command.
 */
export function renderLog4j(): string {
  const audit = (prop: string, logger: string): string[] => [
    `${prop}=INFO,NullAppender`,
    `log4j.logger.${logger}=\${${prop}}`,
    `log4j.additivity.${logger}=false`,
  ]
  return [
    '# Written by cms: edits are replaced on the next converge.',
    'hadoop.root.logger=INFO,console',
    'hadoop.log.dir=.',
    'hadoop.log.file=hadoop.log',
    'log4j.rootLogger=${hadoop.root.logger}',
    'log4j.threshold=ALL',
    'log4j.appender.NullAppender=org.apache.log4j.varia.NullAppender',
    'log4j.appender.console=org.apache.log4j.ConsoleAppender',
    'log4j.appender.console.target=System.err',
    'log4j.appender.console.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n',
    ...audit('hdfs.audit.logger', 'org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit'),
    ...audit('rm.audit.logger', 'org.apache.hadoop.yarn.server.resourcemanager.RMAuditLogger'),
    ...audit('nm.audit.logger', 'org.apache.hadoop.yarn.server.nodemanager.NMAuditLogger'),
    'log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR',
    '',
  ].join('\n')
}

/**
 * A HADOOP_CONF_DIR for a client outside the cluster that reaches it through a SOCKS proxy (`host:port`): the
 * NameNode and ResourceManager by their private addresses, Hadoop RPC (YARN, hdfs:// metadata) through the proxy
 * with Hadoop's SocksSocketFactory, and files through WebHDFS, whose HTTP connections the JVM sends through the same
 * proxy (socksProxyHost, set by the caller). WebHDFS is the default file system because HDFS's own block reader
 * cannot read through a SOCKS socket (it needs a socket channel: "Must not use direct buffers with InputStream API").
 */
export function clientConf(input: {headAddress: string; socks: string; replication: number; ports?: HadoopPorts}): HadoopConfFiles {
  const ports = input.ports ?? HADOOP_PORTS
  const head = input.headAddress
  return {
    'core-site.xml': renderConfiguration([
      ['fs.defaultFS', `webhdfs://${hostPort(head, ports.namenodeHttp)}`],
      ['hadoop.socks.server', input.socks],
      ['hadoop.rpc.socket.factory.class.default', 'org.apache.hadoop.net.SocksSocketFactory'],
    ]),
    'hdfs-site.xml': renderConfiguration([
      ['dfs.replication', input.replication],
      ['dfs.client.use.datanode.hostname', false],
    ]),
    'yarn-site.xml': renderConfiguration([
      ['yarn.resourcemanager.hostname', head],
      ['yarn.resourcemanager.address', hostPort(head, ports.resourceManager)],
      ['yarn.resourcemanager.scheduler.address', hostPort(head, ports.scheduler)],
      ['yarn.resourcemanager.webapp.address', hostPort(head, ports.rmHttp)],
    ]),
    'mapred-site.xml': renderConfiguration([['mapreduce.framework.name', 'yarn']]),
    'log4j.properties': renderLog4j(),
  }
}

/** HADOOP_CONF_DIR for HDFS alone (beside another engine): no YARN, no MapReduce. */
export function renderHdfsConf(input: HadoopSiteInput): HadoopConfFiles {
  return {'core-site.xml': renderCoreSite(input), 'hdfs-site.xml': renderHdfsSite(input), 'log4j.properties': renderLog4j()}
}

/** Every file of HADOOP_CONF_DIR for one host. */
export function renderHadoopConf(input: HadoopSiteInput): HadoopConfFiles {
  return {
    'core-site.xml': renderCoreSite(input),
    'hdfs-site.xml': renderHdfsSite(input),
    'yarn-site.xml': renderYarnSite(input),
    'mapred-site.xml': renderMapredSite(input),
    'capacity-scheduler.xml': renderCapacityScheduler(),
    'log4j.properties': renderLog4j(),
  }
}

const CLUSTER = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/
// A comma separates a list's entries in Hadoop's settings; whitespace is trimmed away.
const PATH = /^\/[^,\s]*$/

function validate(input: HadoopSiteInput): void {
  if (!CLUSTER.test(input.cluster)) throw new Error(`invalid cluster name ${JSON.stringify(input.cluster)}`)
  for (const [what, a] of [['head', input.headAddress], ['private', input.privateAddress]] as const) {
    if (!isIP(a)) throw new Error(`the ${what} address must be an IP address, not ${JSON.stringify(a)}`)
    if (a === '0.0.0.0' || a === '::') throw new Error(`Hadoop daemons bind a private address, not the wildcard ${a}`)
  }
  if (input.isHead && input.headAddress !== input.privateAddress) throw new Error('the head\'s private address must be the head address')
  const d = input.dirs
  if (d.data.length === 0 || d.nmLocal.length === 0) throw new Error('a host needs at least one DataNode folder and one NodeManager folder')
  for (const p of [input.hadoopHome, d.tmp, d.name, d.nmLog, d.conf, ...d.data, ...d.nmLocal]) {
    if (!PATH.test(p)) throw new Error(`Hadoop paths must be absolute, without commas or whitespace: ${JSON.stringify(p)}`)
  }
  replicationFor(input.datanodes)
  for (const [name, port] of Object.entries(input.ports ?? HADOOP_PORTS)) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid ${name} port ${port}`)
  }
}
