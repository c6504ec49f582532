import {shq} from '../../remote/shell.js'
import type {HadoopLayout} from './layout.js'
import type {SparkOnHdfs} from './spark-archive.js'

/**
 * Spark's configuration for submitting to the cluster's YARN from its head (SPARK_CONF_DIR of the jobs cms submits).
 *
 * Spark's jars are one archive in HDFS (spark.yarn.archive, spark-archive.ts): nothing is uploaded per application
 * and no host but the head unpacks Spark. Python drivers run in the cluster (YARN runs them in the
 * ApplicationMaster's container, which standalone Spark cannot).
 */
export function sparkDefaultsForYarn(spark: SparkOnHdfs): string {
  // spark-submit returns once YARN accepted the application; cms follows it through the ResourceManager.
  return renderSparkDefaults([...yarnDefaults(spark), ['spark.yarn.submit.waitAppCompletion', 'false']])
}

/**
 * spark-defaults.conf for a stock spark-submit on the user's machine through `cms cluster tunnel` (the same Spark
 * version as the cluster's): the head's settings, and spark-submit waits for the application as it normally does.
 * Its files go to HDFS itself (`defaultFs`; RPC and blocks through the tunnel's SOCKS proxy): the WebHDFS client
 * of Spark's shaded Hadoop jars is incomplete. Spark ships the client's Hadoop configuration with the application
 * (its HADOOP_CONF_DIR and an overlay of every property), which names a SOCKS proxy that exists only on the user's
 * machine; so the ApplicationMaster and the executors put the cluster's own configuration folder first on their
 * classpath, whose final properties (the default file system, plain sockets) the overlay cannot change.
 */
export function sparkDefaultsForTunnel(input: {spark: SparkOnHdfs; clusterConfDir: string; defaultFs: string}): string {
  return renderSparkDefaults([
    ...yarnDefaults(input.spark),
    ['spark.hadoop.fs.defaultFS', input.defaultFs],
    ['spark.driver.extraClassPath', input.clusterConfDir],
    ['spark.executor.extraClassPath', input.clusterConfDir],
  ])
}

function yarnDefaults(spark: SparkOnHdfs): Array<[string, string]> {
  return [
    ['spark.master', 'yarn'],
    ['spark.submit.deployMode', 'cluster'],
    ['spark.yarn.archive', spark.archive],
    ['spark.yarn.appMasterEnv.PYSPARK_PYTHON', 'python3'],
    ['spark.executorEnv.PYSPARK_PYTHON', 'python3'],
    // Hadoop's jars are on YARN's classpath already (the NodeManager's); Spark brings its own Hadoop client.
    ['spark.yarn.populateHadoopClasspath', 'false'],
  ]
}

function renderSparkDefaults(props: Array<[string, string]>): string {
  for (const [k, v] of props) if (/\s/.test(v)) throw new Error(`${k}: ${JSON.stringify(v)} cannot be written in spark-defaults.conf`)
  return ['# Written by cms: edits are replaced on the next converge.', ...props.map(([k, v]) => `${k} ${v}`), ''].join('\n')
}

export function sparkEnvForYarn(l: HadoopLayout, sparkHome: string, spark: SparkOnHdfs): string {
  const lines: Array<[string, string]> = [
    ['SPARK_HOME', sparkHome],
    ['SPARK_CONF_DIR', l.sparkConfDir],
    ['HADOOP_CONF_DIR', l.confDir],
    ['YARN_CONF_DIR', l.confDir],
    // A Python app's PySpark libraries from HDFS, not uploaded with each application.
    ...(spark.pyArchives.length > 0 ? [['PYSPARK_ARCHIVES_PATH', spark.pyArchives.join(',')] as [string, string]] : []),
  ]
  return '# Written by cms.\n' + lines.map(([k, v]) => `export ${k}=${shq(v)}`).join('\n') + '\n'
}
