import {providerFlags} from '../../providers/registry.js'
import {CmsCommand, optionalClusterNameFlag} from '../../cli/base-command.js'
import {describeNamedCluster} from '../../cluster/describe.js'
import {listClusterNames} from '../../cluster/list.js'
import {validateClusterName} from '../../cluster/names.js'
import {renderClusterInfo} from '../../output/render.js'
import type {ClusterInfo} from '../../output/results.js'
import {UsageError} from '../../remote/errors.js'

export default class ClusterInfoCommand extends CmsCommand {
  static summary = "Show a cluster live: hosts from the provider, and the engine's own view (Spark master, Nomad servers and nodes, Kubernetes API and nodes, Hadoop NameNode and ResourceManager)."
  static description = 'Hosts come from the provider (docker container labels, aws instance tags, lxd instance config keys, the manifest on an ssh cluster\'s head); the rest from the engine\'s API on the head. An attached cluster (cms cluster attach) is described by its API alone: its nodes are its hosts. Without -n, shows the only cluster there is. Exit code 1 if the cluster is not healthy.'
  static examples = [
    {description: 'Human-readable', command: '<%= config.bin %> <%= command.id %> -n demo'},
    {description: 'For scripts', command: '<%= config.bin %> <%= command.id %> -n demo --json | jq .master.aliveWorkers'},
  ]
  static flags = {name: optionalClusterNameFlag, ...providerFlags}

  async run(): Promise<ClusterInfo> {
    const {flags} = await this.parse(ClusterInfoCommand)
    let name = flags.name
    if (name === undefined) {
      const names = await listClusterNames(this.runOptions(flags))
      if (names.length !== 1) throw new UsageError(names.length === 0 ? 'there are no clusters' : `there are ${names.length} clusters (${names.join(', ')}): pass -n NAME`)
      name = names[0]
    }
    validateClusterName(name)
    const info = await describeNamedCluster(name, this.runOptions(flags))
    this.log(renderClusterInfo(info))
    if (info.health !== 'healthy') this.failWith(1)
    return info
  }
}
