import {Args, Flags} from '@oclif/core'
import {providerFlags} from '../../providers/registry.js'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {helpWords} from '../../cli/registry-words.js'
import {addHosts} from '../../cluster/add.js'
import {engineAddFlags, engineOptionsOf} from '../../engines/registry.js'
import type {ConvergeReport} from '../../output/results.js'

export default class ClusterAdd extends CmsCommand {
  static summary = 'Join more hosts to a cluster (Spark workers, Nomad clients, Kubernetes nodes, Hadoop DataNodes and NodeManagers).'
  static description = `The new hosts run what the cluster already runs (spark, nomad, kubernetes or hadoop), with its settings. ${helpWords.hostMakers} make them (--hosts N; aws, lxd and openstack launch them like the cluster's workers); ${helpWords.hostTakers} take the hosts you name.`
  static examples = [
    {description: 'One more container host', command: '<%= config.bin %> <%= command.id %> -n demo'},
    {description: 'Two more container hosts', command: '<%= config.bin %> <%= command.id %> -n demo --hosts 2'},
    {description: 'An SSH host', command: '<%= config.bin %> <%= command.id %> -n lab admin@10.0.0.7'},
  ]
  static strict = false
  static args = {hosts: Args.string({description: 'ssh provider: hosts to add as user@host[:port].'})}
  static flags = {
    name: clusterNameFlag,
    ...providerFlags,
    hosts: Flags.integer({description: `${helpWords.hostMakers} providers: number of hosts to add [default: 1]; a cloud's new hosts are launched like the cluster's workers.`}),
    'identity-file': Flags.string({char: 'i', description: 'ssh provider: private key to log in with.'}),
    ...engineAddFlags,
  }

  async run(): Promise<ConvergeReport> {
    const {flags, argv} = await this.parse(ClusterAdd)
    const report = await addHosts(
      {
        name: flags.name,
        hostCount: flags.hosts,
        hostSpecs: argv as string[],
        identityFile: flags['identity-file'],
        options: engineOptionsOf(flags, engineAddFlags),
      },
      this.runOptions(flags),
    )
    this.showConverge(report)
    return report
  }
}
