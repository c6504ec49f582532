/**
 * Renders, for bench/hadoop-create-vs-ansible.sh, every file the Ansible playbook (bench/ansible/hadoop.yml) pushes
 * to its hosts, with cms's own renderers (src/engines/hadoop), so both tools write the same configuration: each
 * host's HADOOP_CONF_DIR (renderHadoopConf with that host's address, memory and cores, plus cms-hadoop.env and the
 * empty decommission exclude files writeConfigScript creates), the NodeManager's hosts file (jdk.net.hosts.file), and
 * on the head Spark's configuration for YARN (sparkDefaultsForYarn, sparkEnvForYarn: Spark's jars and PySpark's zips in
 * HDFS under sparkHdfsDir(sparkId), which the playbook puts there). Also writes the playbook's
 * variables (group_vars/hadoop.yml): the folders of hadoopLayout, each daemon's heap (DAEMON_HEAP), the NameNode's
 * cluster id, the JVM option cms gives the NodeManager, and the NameNode's and ResourceManager's HTTP ports.
 * Rendering happens before the timed window, as the Nomad bench makes its PKI beforehand.
 *
 * Bundled and run by the bench script: node hadoop-render.bundle.mjs SPEC.json OUT_DIR, where SPEC is
 * {cluster, home, hosts: [{name, address}], hadoopHome, sparkHome, sparkId, pyZips, hostMemoryMb, hostCores}; the first host is the
 * head (it computes too, cms's default). Writes OUT_DIR/files/<host name>/... (a tree rooted at `/`) and
 * OUT_DIR/group_vars/hadoop.yml.
 */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {DAEMON_HEAP, daemonLog, hadoopLayout, pidFile} from '../src/engines/hadoop/layout.js'
import {cmsEnv, hadoopEnv} from '../src/engines/hadoop/scripts.js'
import {excludeFiles, HADOOP_PORTS, namenodeUri, renderHadoopConf} from '../src/engines/hadoop/site-config.js'
import {sparkHdfsDir, sparkOnHdfs} from '../src/engines/hadoop/spark-archive.js'
import {sparkDefaultsForYarn, sparkEnvForYarn} from '../src/engines/hadoop/spark-on-yarn.js'

interface Spec {
  cluster: string
  home: string
  hosts: Array<{name: string; address: string}>
  hadoopHome: string
  sparkHome: string
  /** Names Spark's folder in HDFS (cms uses the archive's content id). */
  sparkId: string
  /** PySpark's zips in the Spark archive's python/lib. */
  pyZips: string[]
  hostMemoryMb: number
  hostCores: number
}

const [specFile, out] = process.argv.slice(2)
if (!specFile || !out) throw new Error('usage: hadoop-render SPEC.json OUT_DIR')
const spec = JSON.parse(readFileSync(specFile, 'utf8')) as Spec
const layout = hadoopLayout(spec.home, spec.cluster)
const head = spec.hosts[0]
const sparkDir = sparkHdfsDir(spec.sparkId)
const spark = sparkOnHdfs(namenodeUri(head.address), sparkDir, spec.pyZips)

function put(host: string, path: string, text: string): void {
  const file = join(out, 'files', host, path)
  mkdirSync(dirname(file), {recursive: true})
  writeFileSync(file, text)
}

for (const host of spec.hosts) {
  const isHead = host === head
  const conf = {
    ...renderHadoopConf({
      cluster: spec.cluster,
      headAddress: head.address,
      privateAddress: host.address,
      hadoopHome: spec.hadoopHome,
      dirs: layout.dirs,
      hostMemoryMb: spec.hostMemoryMb,
      hostCores: spec.hostCores,
      isHead,
      datanodes: spec.hosts.length,
    }),
    ...cmsEnv(spec.hadoopHome),
  }
  for (const [name, text] of Object.entries(conf)) put(host.name, `${layout.confDir}/${name}`, text)
  const ex = excludeFiles(layout.confDir)
  put(host.name, ex.hdfs, '')
  put(host.name, ex.yarn, '')
  // engine.ts nodeManagerHostsScript: the NodeManager registers under its private address.
  put(host.name, `${layout.confDir}/nodemanager-hosts`, `127.0.0.1 localhost\n${host.address} ${host.address} ${host.name}\n`)
  if (isHead) {
    put(host.name, `${layout.sparkConfDir}/spark-defaults.conf`, sparkDefaultsForYarn(spark))
    put(host.name, `${layout.sparkConfDir}/spark-env.sh`, sparkEnvForYarn(layout, spec.sparkHome, spark))
  }
}

const q = (s: string) => JSON.stringify(s)
const vars = [
  '# Rendered by bench/hadoop-render.ts from cms\'s src/engines/hadoop (layout.ts, scripts.ts, site-config.ts).',
  `hadoop_home: ${q(spec.hadoopHome)}`,
  `spark_home: ${q(spec.sparkHome)}`,
  `spark_hdfs_dir: ${q(sparkDir)}`,
  `hadoop_cluster_dir: ${q(layout.clusterDir)}`,
  `hadoop_conf_dir: ${q(layout.confDir)}`,
  `hadoop_log_dir: ${q(layout.logDir)}`,
  `hadoop_run_dir: ${q(layout.runDir)}`,
  `hadoop_data_dir: ${q(layout.dataDir)}`,
  `hadoop_name_dir: ${q(layout.dirs.name)}`,
  // formatScript: `-clusterid cms-<cluster>`.
  `hadoop_cluster_id: ${q(`cms-${spec.cluster}`)}`,
  // hadoopEnv: the environment of every Hadoop command cms runs on a host.
  `hadoop_env: ${q(hadoopEnv(layout))}`,
  'hadoop_heap:',
  ...Object.entries(DAEMON_HEAP).map(([d, h]) => `  ${d}: ${q(h)}`),
  'hadoop_pid_file:',
  ...Object.keys(DAEMON_HEAP).map((d) => `  ${d}: ${q(pidFile(layout, d as keyof typeof DAEMON_HEAP))}`),
  'hadoop_daemon_log:',
  ...Object.keys(DAEMON_HEAP).map((d) => `  ${d}: ${q(daemonLog(layout, d as keyof typeof DAEMON_HEAP))}`),
  // engine.ts start(): the NodeManager's JVM resolves names from its hosts file.
  `hadoop_nodemanager_opts: ${q(`-Djdk.net.hosts.file=${layout.confDir}/nodemanager-hosts`)}`,
  `hadoop_namenode_http_port: ${HADOOP_PORTS.namenodeHttp}`,
  `hadoop_rm_http_port: ${HADOOP_PORTS.rmHttp}`,
  '',
].join('\n')
mkdirSync(join(out, 'group_vars'), {recursive: true})
writeFileSync(join(out, 'group_vars', 'hadoop.yml'), vars)
console.log(JSON.stringify({hosts: spec.hosts.length, confDir: layout.confDir}))
