import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {detachCluster} from '../../cluster/attach.js'

export default class ClusterDetach extends CmsCommand {
  static summary = "Forget a cluster 'cms cluster attach' registered (its access file); the cluster itself is not touched."
  static examples = [{description: 'Forget an attached cluster', command: '<%= config.bin %> <%= command.id %> -n prod'}]
  static flags = {name: clusterNameFlag}

  async run(): Promise<{name: string; detached: true}> {
    const {flags} = await this.parse(ClusterDetach)
    const report = await detachCluster(flags.name)
    this.log(`Detached cluster ${report.name}: cms no longer knows it.`)
    return report
  }
}
