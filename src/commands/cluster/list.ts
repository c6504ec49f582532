import {providerFlags} from '../../providers/registry.js'
import {CmsCommand} from '../../cli/base-command.js'
import {helpWords} from '../../cli/registry-words.js'
import {listClusters} from '../../cluster/list.js'
import {renderClusterList} from '../../output/render.js'
import type {ClusterList} from '../../output/results.js'

export default class ClusterListCommand extends CmsCommand {
  static summary = "List clusters with their engine's status, live from the providers and the engines."
  static description = `Asks every provider at once (${helpWords.allProviders}): docker clusters from container labels, aws clusters of the region in use (one DescribeInstances call) from instance tags, lxd clusters from instance config keys, openstack clusters of the project in use (one Nova call) from server tags, ssh clusters from access files. Then each engine's own status: the spark master, the nomad leader, the kubernetes API server, the hadoop ResourceManager and NameNode. It only looks: it makes and installs no key. AGE shows how old aws and openstack clusters are and flags those past their --max-age.`
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json', '<%= config.bin %> <%= command.id %> --region eu-west-1']
  static flags = {...providerFlags}

  async run(): Promise<ClusterList> {
    const {flags} = await this.parse(ClusterListCommand)
    const list = await listClusters(this.runOptions(flags))
    this.log(renderClusterList(list))
    return list
  }
}
