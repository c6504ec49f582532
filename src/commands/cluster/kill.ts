import {Flags} from '@oclif/core'
import {providerFlags} from '../../providers/registry.js'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {killCluster} from '../../cluster/kill.js'
import {validateClusterName} from '../../cluster/names.js'
import {renderHostReports} from '../../output/render.js'
import type {KillReport} from '../../output/results.js'

export default class ClusterKill extends CmsCommand {
  static summary = 'Destroy a cluster and leave nothing behind.'
  static description = `Docker: removes the containers, the network and the cluster's key. AWS: terminates the instances, waits until they are gone, then deletes the security group, the key pair and the local key. LXD: deletes the instances and the local key. OpenStack: deletes the servers, waits until they are gone, then deletes any port left, the security group, the key pair and the local key. SSH: stops every process cms started and deletes every file it installed, so each host is as it was. Asks for confirmation on a terminal; --yes skips the question.`
  static examples = [
    {description: 'Destroy after confirming', command: '<%= config.bin %> <%= command.id %> -n demo'},
    {description: 'In CI', command: '<%= config.bin %> <%= command.id %> -n demo --yes'},
  ]
  static flags = {
    name: clusterNameFlag,
    ...providerFlags,
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.', default: false}),
  }

  async run(): Promise<KillReport | {name: string; killed: false}> {
    const {flags} = await this.parse(ClusterKill)
    validateClusterName(flags.name)
    if (!flags.yes && process.stdin.isTTY && process.stderr.isTTY) {
      const {confirm} = await import('@inquirer/prompts')
      const sure = await confirm({message: `Destroy cluster ${flags.name} and everything cms installed for it?`, default: false}, {output: process.stderr})
      if (!sure) {
        this.logToStderr('Nothing was changed.')
        this.failWith(1)
        return {name: flags.name, killed: false}
      }
    }
    const report = await killCluster({name: flags.name}, this.runOptions(flags))
    const failed = report.hosts.filter((h) => !h.ok)
    if (failed.length > 0) {
      this.logToStderr(renderHostReports(report.hosts))
      this.logToStderr(`${failed.length} hosts could not be cleaned; rerun 'cms cluster kill -n ${flags.name}' when they are reachable.`)
      this.failWith(1)
    } else {
      const also = report.removed && report.removed.length > 0 ? `, ${report.removed.join(', ')}` : ''
      this.log(`Cluster ${report.name} destroyed (${report.hosts.length} hosts${also}, ${report.seconds.toFixed(1)} s).`)
    }
    return report
  }
}
