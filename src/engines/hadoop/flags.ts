import {Flags} from '@oclif/core'
import {UsageError} from '../../remote/errors.js'
import type {EngineOptions} from '../engine.js'
import {checkHadoopDistSource} from './dist.js'

/** Flags shared by the hadoop engine and the engines that run HDFS beside them (spark --hdfs). */
export const hadoopDistFlag = Flags.string({
  description: 'hadoop, spark/nomad/kubernetes --hdfs: Hadoop runtime archive, a path or URL (.tgz) built by scripts/hadoop-dist.sh [default: $CMS_HADOOP_DIST].',
})

export const hdfsFlag = Flags.boolean({
  description: 'spark, nomad, kubernetes: run HDFS beside the engine, a NameNode on the head and a DataNode on every host (the Hadoop runtime from --hadoop-dist; on kubernetes, as pods of the Hadoop image built from it).',
})

/** --hdfs beside Spark, Nomad or Kubernetes: --hadoop-dist only with it, and a runtime to ship. */
export function checkHdfsOptions(options: EngineOptions): void {
  if (options['hadoop-dist'] !== undefined && !options.hdfs) throw new UsageError('--hadoop-dist goes with --hdfs on this engine')
  if (options.hdfs) checkHadoopDistSource(options['hadoop-dist'] as string | undefined)
}
