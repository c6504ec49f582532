import {Args, Flags} from '@oclif/core'
import {providerFlags} from '../../providers/registry.js'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {removeHosts} from '../../cluster/remove.js'
import {renderClusterInfo, renderHostReports} from '../../output/render.js'
import type {RemoveReport} from '../../output/results.js'

export default class ClusterRemove extends CmsCommand {
  static summary = 'Drain hosts through the engine and take them out of a cluster.'
  static description = `Each host is drained through the engine first, then what runs there is stopped: spark decommissions the worker (running executors migrate their blocks); nomad drains the node and purges it; kubernetes cordons the node and evicts its pods; hadoop decommissions the DataNode (its blocks are copied elsewhere) and the NodeManager. The grace period bounds how long running work may take. Then docker containers are removed, aws instances terminated, lxd instances and openstack servers deleted; on ssh hosts every file cms installed is deleted. The head cannot be removed (use kill).`
  static examples = [
    {description: 'Remove a container host', command: '<%= config.bin %> <%= command.id %> -n demo cms-demo-4'},
    {description: 'Remove an SSH host, giving running work two minutes', command: '<%= config.bin %> <%= command.id %> -n lab admin@10.0.0.7 --grace 120'},
  ]
  static strict = false
  static args = {hosts: Args.string({description: 'Hosts to remove: HOST names from `cms cluster info`, or their addresses.', required: true})}
  static flags = {
    name: clusterNameFlag,
    ...providerFlags,
    grace: Flags.integer({description: 'Seconds a decommissioning worker gets to finish or hand over its work.', default: 30, min: 0}),
  }

  async run(): Promise<RemoveReport> {
    const {flags, argv} = await this.parse(ClusterRemove)
    const report = await removeHosts({name: flags.name, hosts: argv as string[], graceSeconds: flags.grace}, this.runOptions(flags))
    this.log(renderClusterInfo(report.cluster))
    if (report.removed.some((r) => !r.ok)) {
      this.logToStderr(`\n${renderHostReports(report.removed)}`)
      this.failWith(1)
    }
    return report
  }
}
