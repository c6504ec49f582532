import {Args, Flags} from '@oclif/core'
import {CmsCommand} from '../../cli/base-command.js'
import {loadImage, pushImageTo} from '../../cluster/image-load.js'
import {renderHostReports} from '../../output/render.js'
import type {ImageLoadReport} from '../../output/results.js'
import {UsageError} from '../../remote/errors.js'

export default class ImageLoad extends CmsCommand {
  static summary = "Put a local image into every node of a Kubernetes cluster, or push it to a registry."
  static description = `With -n: the image (from the local Docker engine) is saved once, uploaded once to the cluster's head and fetched from there by the other nodes, then imported into each node's container runtime; pods use it with imagePullPolicy: Never (or IfNotPresent). Nodes that already have this image under this name are left alone. With --push: the image is tagged REGISTRY/NAME:TAG and pushed there by the local Docker engine instead.`
  static examples = [
    {description: 'Load the Spark image into a cluster', command: '<%= config.bin %> <%= command.id %> -n k8s cms/spark:4.3.0'},
    {description: 'Push it to a registry', command: '<%= config.bin %> <%= command.id %> cms/spark:4.3.0 --push registry.example.org:5000'},
  ]
  static args = {image: Args.string({description: 'The local image, NAME[:TAG].', required: true})}
  static flags = {
    name: Flags.string({char: 'n', description: 'Cluster whose nodes get the image.', env: 'CMS_CLUSTER'}),
    push: Flags.string({description: 'Push to this registry (HOST[:PORT]) instead of loading into a cluster.'}),
  }

  async run(): Promise<ImageLoadReport> {
    const {flags, args} = await this.parse(ImageLoad)
    if (flags.push !== undefined) {
      if (flags.name !== undefined && process.env.CMS_CLUSTER !== flags.name) throw new UsageError('use either -n NAME (load into the cluster\'s nodes) or --push REGISTRY, not both')
      const report = await pushImageTo({image: args.image, registry: flags.push}, this.runOptions(flags))
      this.log(`${report.pushed}${report.digest ? ` ${report.digest}` : ''}`)
      return report
    }
    if (flags.name === undefined) throw new UsageError('name the cluster with -n NAME (or push to a registry with --push REGISTRY)')
    const report = await loadImage({name: flags.name, image: args.image}, this.runOptions(flags))
    const hosts = report.hosts ?? []
    this.log(renderHostReports(hosts))
    const failed = hosts.filter((h) => !h.ok)
    if (failed.length > 0) {
      this.logToStderr(`${failed.length} of ${hosts.length} hosts failed; rerun the same command to finish.`)
      this.failWith(1)
    }
    return report
  }
}
