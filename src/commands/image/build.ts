import {Args, Flags} from '@oclif/core'
import {CmsCommand} from '../../cli/base-command.js'
import {checkSparkDistSource} from '../../engines/spark/dist.js'
import {buildSparkImage} from '../../images/spark-image.js'
import type {ImageBuildReport} from '../../output/results.js'

export default class ImageBuild extends CmsCommand {
  static summary = 'Build a container image for Kubernetes clusters with the local Docker engine.'
  static description = `spark: Java 17, Python 3 and a Spark runtime at /opt/spark, running as uid 185, with the entrypoint Spark on Kubernetes expects (executor, driver, or any command). Built from images/spark; an image with the same inputs (files, runtime, base image) is kept, not rebuilt. Put it on a cluster's nodes with 'cms image load'.`
  static examples = [
    {description: 'With the runtime in $CMS_SPARK_DIST (tag cms/spark:VERSION)', command: '<%= config.bin %> <%= command.id %> spark'},
    {description: 'From a local archive, tagged', command: '<%= config.bin %> <%= command.id %> spark --spark-dist spark-4.0.1-bin-hadoop3.tgz --tag cms/spark:dev'},
  ]
  static args = {image: Args.string({description: 'The image to build.', required: true, options: ['spark']})}
  static flags = {
    'spark-dist': Flags.string({description: 'Spark runtime archive: a local .tgz/.tar or an http(s) URL [default: $CMS_SPARK_DIST, else the pinned Apache release].'}),
    tag: Flags.string({description: 'Image tag [default: cms/spark:SPARK_VERSION].'}),
  }

  async run(): Promise<ImageBuildReport> {
    const {flags} = await this.parse(ImageBuild)
    const distSource = checkSparkDistSource(flags['spark-dist'])
    const result = await buildSparkImage({distSource, tag: flags.tag, log: (line) => this.logToStderr(line)})
    this.log(`${result.tag} ${result.id.replace(/^sha256:/, '').slice(0, 12)} ${(result.sizeBytes / 2 ** 20).toFixed(0)} MiB ${result.built ? `built in ${result.seconds.toFixed(1)} s` : '(already built)'}`)
    return {image: 'spark', ...result}
  }
}
