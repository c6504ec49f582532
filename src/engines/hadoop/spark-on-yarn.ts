import {shq} from '../../remote/shell.js'
import type {HadoopLayout} from './layout.js'

/**
 * Spark's configuration for submitting to the cluster's YARN from its head (SPARK_CONF_DIR of the jobs cms submits,
 * and of `cms cluster tunnel -- spark-submit` users through the files cms writes locally).
 *
 * Spark is unpacked at the same path on every host, so its jars are named `local:` (spark.yarn.jars): nothing is
 * uploaded per application and no 480 MB archive sits in HDFS. Python drivers run in the cluster (YARN runs them in
 * the ApplicationMaster's container, which standalone Spark cannot).
 */
export function sparkDefaultsForYarn(sparkHome: string): string {
  return [
    '# Written by cms: edits are replaced on the next converge.',
    'spark.master yarn',
    'spark.submit.deployMode cluster',
    `spark.yarn.jars local:${sparkHome}/jars/*`,
    'spark.yarn.appMasterEnv.PYSPARK_PYTHON python3',
    'spark.executorEnv.PYSPARK_PYTHON python3',
    // spark-submit returns once YARN accepted the application; cms follows it through the ResourceManager.
    'spark.yarn.submit.waitAppCompletion false',
    // Hadoop's jars are on YARN's classpath already (the NodeManager's); Spark brings its own Hadoop client.
    'spark.yarn.populateHadoopClasspath false',
    '',
  ].join('\n')
}

export function sparkEnvForYarn(l: HadoopLayout, sparkHome: string): string {
  const lines: Array<[string, string]> = [
    ['SPARK_HOME', sparkHome],
    ['SPARK_CONF_DIR', l.sparkConfDir],
    ['HADOOP_CONF_DIR', l.confDir],
    ['YARN_CONF_DIR', l.confDir],
  ]
  return '# Written by cms.\n' + lines.map(([k, v]) => `export ${k}=${shq(v)}`).join('\n') + '\n'
}
