import {Flags} from '@oclif/core'

/** Flags shared by the hadoop engine and the engines that run HDFS beside them (spark --hdfs). */
export const hadoopDistFlag = Flags.string({
  description: 'hadoop, spark --hdfs: Hadoop runtime archive, a path or URL (.tgz) built by scripts/hadoop-dist.sh [default: $CMS_HADOOP_DIST].',
})

export const hdfsFlag = Flags.boolean({
  description: 'spark: run HDFS beside Spark, a NameNode on the head and a DataNode on every host (the Hadoop runtime from --hadoop-dist).',
})
