import {Args, Flags} from '@oclif/core'
import {CmsCommand} from '../../cli/base-command.js'
import {checkHadoopDistSource} from '../../engines/hadoop/dist.js'
import {checkSparkDistSource} from '../../engines/spark/dist.js'
import {buildHadoopImage} from '../../images/hadoop-image.js'
import {buildNotebookImage} from '../../images/notebook-image.js'
import {buildSparkImage} from '../../images/spark-image.js'
import type {ImageBuildReport} from '../../output/results.js'
import {UsageError} from '../../remote/errors.js'

export default class ImageBuild extends CmsCommand {
  static summary = 'Build a container image for Kubernetes clusters with the local Docker engine.'
  static description = `spark: Java 17, Python 3 and a Spark runtime at /opt/spark, running as uid 185, with the entrypoint Spark on Kubernetes expects (executor, driver, or any command). Built from images/spark.
notebook: the spark image (built first) plus JupyterLab, for 'cms notebook' on Kubernetes clusters. Built from images/notebook with the JupyterLab archive fetched from PyPI once (this machine's pip; cached).
hadoop: Java 17 and the Hadoop runtime cms ships to hosts at /opt/hadoop, running as uid 185; one image for every role (namenode, datanode, resourcemanager, nodemanager, or any Hadoop command), its configuration from environment variables. Built from images/hadoop.
An image with the same inputs (files, runtime, base image) is kept, not rebuilt. Put it on a cluster's nodes with 'cms image load'.`
  static examples = [
    {description: 'With the runtime in $CMS_SPARK_DIST (tag cms/spark:VERSION)', command: '<%= config.bin %> <%= command.id %> spark'},
    {description: 'From a local archive, tagged', command: '<%= config.bin %> <%= command.id %> spark --spark-dist spark-4.0.1-bin-hadoop3.tgz --tag cms/spark:dev'},
    {description: 'The Hadoop image, from $CMS_HADOOP_DIST (tag cms/hadoop:VERSION)', command: '<%= config.bin %> <%= command.id %> hadoop'},
    {description: "The notebook image for 'cms notebook' (tag cms/notebook:SPARK_VERSION)", command: '<%= config.bin %> <%= command.id %> notebook'},
  ]
  static args = {image: Args.string({description: 'The image to build.', required: true, options: ['spark', 'hadoop', 'notebook']})}
  static flags = {
    'spark-dist': Flags.string({description: 'spark, notebook: Spark runtime archive, a local .tgz/.tar or an http(s) URL [default: $CMS_SPARK_DIST, else the pinned Apache release].'}),
    'hadoop-dist': Flags.string({description: 'hadoop: Hadoop runtime archive built by scripts/hadoop-dist.sh, a local .tgz or an http(s) URL [default: $CMS_HADOOP_DIST].'}),
    tag: Flags.string({description: 'Image tag [default: cms/spark:SPARK_VERSION, cms/hadoop:HADOOP_VERSION, cms/notebook:SPARK_VERSION].'}),
  }

  async run(): Promise<ImageBuildReport> {
    const {args, flags} = await this.parse(ImageBuild)
    const log = (line: string) => this.logToStderr(line)
    const image = args.image as 'spark' | 'hadoop' | 'notebook'
    const other = image === 'hadoop' ? 'spark-dist' : 'hadoop-dist'
    if (flags[other] !== undefined) throw new UsageError(`--${other} is for 'cms image build ${image === 'hadoop' ? 'spark' : 'hadoop'}', not ${image}`)
    const result =
      image === 'spark'
        ? await buildSparkImage({distSource: checkSparkDistSource(flags['spark-dist']), tag: flags.tag, log})
        : image === 'notebook'
          ? await buildNotebookImage({distSource: checkSparkDistSource(flags['spark-dist']), tag: flags.tag, log})
          : await buildHadoopImage({distSource: checkHadoopDistSource(flags['hadoop-dist']), tag: flags.tag, log})
    this.log(`${result.tag} ${result.id.replace(/^sha256:/, '').slice(0, 12)} ${(result.sizeBytes / 2 ** 20).toFixed(0)} MiB ${result.built ? `built in ${result.seconds.toFixed(1)} s` : '(already built)'}`)
    return {image, ...result}
  }
}
