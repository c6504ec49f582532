import {CmsCommand} from '../../cli/base-command.js'
import {listClusters} from '../../cluster/list.js'
import {renderClusterList} from '../../output/render.js'
import type {ClusterList} from '../../output/results.js'

export default class ClusterListCommand extends CmsCommand {
  static summary = 'List clusters with their master status, live from the providers and the masters.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<ClusterList> {
    const {flags} = await this.parse(ClusterListCommand)
    const list = await listClusters(this.runOptions(flags))
    this.log(renderClusterList(list))
    return list
  }
}
