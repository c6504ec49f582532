import {Args, Flags} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {helpWords} from '../../cli/registry-words.js'
import {createCluster} from '../../cluster/create.js'
import {ENGINE_NAMES, engineFlags, engineOptionsOf} from '../../engines/registry.js'
import type {ConvergeReport} from '../../output/results.js'
import {DEFAULT_PROVIDER, PROVIDER_NAMES, providerCreateFlags, providerFlags, providerFlagsOf, requireProvider} from '../../providers/registry.js'

export default class ClusterCreate extends CmsCommand {
  static summary = `Create a cluster running ${helpWords.engines} on ${helpWords.providers} hosts, or finish one whose creation failed.`
  static description = `Gets the hosts from the provider (-p ${helpWords.providers}): docker makes containers on this machine, aws launches EC2 instances, lxd makes containers on an LXD daemon, openstack launches servers through Nova, ssh takes the machines you name (the first is the head). Then installs and starts the engine (-e ${helpWords.engines}) on every host over SSH: spark, a master on the head and a worker everywhere; nomad, servers on the head and a client everywhere; kubernetes, the control plane on the head and a node everywhere; hadoop, HDFS and YARN (NameNode and ResourceManager on the head, a DataNode and a NodeManager everywhere). It waits until the engine reports every host ready. Rerunning it finishes what a failed run left undone.`
  static examples = [
    {description: 'Three local container hosts (the default provider)', command: '<%= config.bin %> <%= command.id %> -n demo'},
    {description: 'Eight container hosts with a local Spark distribution', command: '<%= config.bin %> <%= command.id %> -n big --hosts 8 --spark-dist ./spark-4.0.1-bin-hadoop3.tgz'},
    {description: 'A Nomad cluster with three servers', command: '<%= config.bin %> <%= command.id %> -n jobs -e nomad --hosts 4 --servers 3'},
    {description: 'A Kubernetes cluster of two nodes', command: '<%= config.bin %> <%= command.id %> -n k8s -e kubernetes --hosts 2'},
    {description: 'HDFS and YARN on four hosts', command: '<%= config.bin %> <%= command.id %> -n lake -e hadoop --hosts 4'},
    {description: 'Existing machines over SSH; the first is the head', command: '<%= config.bin %> <%= command.id %> -n lab -p ssh admin@10.0.0.5 admin@10.0.0.6:2222 gpu-box'},
    {description: 'Four EC2 spot instances that `cms cluster reap` kills after 8 hours', command: '<%= config.bin %> <%= command.id %> -n etl -p aws --region eu-west-1 --hosts 4 --instance-type m6i.xlarge --spot --max-age 8h'},
    {description: 'Two LXD containers of 2 CPUs and 4 GiB each on the local daemon', command: '<%= config.bin %> <%= command.id %> -n lab -p lxd --hosts 2 --cpus 2 --memory 4GiB'},
    {description: 'Three OpenStack servers of the cloud "research" in clouds.yaml', command: '<%= config.bin %> <%= command.id %> -n lab -p openstack --os-cloud research --hosts 3 --flavor m1.large --network lab-net'},
  ]
  static strict = false
  static args = {hosts: Args.string({description: 'ssh provider: hosts as user@host[:port] or ~/.ssh/config aliases; the first is the head.'})}
  static flags = {
    name: clusterNameFlag,
    provider: Flags.string({char: 'p', description: 'Where hosts come from.', options: PROVIDER_NAMES, default: DEFAULT_PROVIDER}),
    engine: Flags.string({char: 'e', description: 'What runs on the hosts.', options: ENGINE_NAMES, default: 'spark'}),
    hosts: Flags.integer({description: `${helpWords.hostMakers} providers: number of hosts [default: 3].`}),
    'identity-file': Flags.string({char: 'i', description: 'ssh provider: private key to log in with (tried before ssh-agent and ~/.ssh keys).'}),
    ...engineFlags,
    ...providerFlags,
    ...providerCreateFlags,
  }

  async run(): Promise<ConvergeReport> {
    const {flags, argv} = await this.parse(ClusterCreate)
    const report = await createCluster(
      {
        name: flags.name,
        provider: requireProvider(flags.provider),
        engine: flags.engine,
        hostCount: flags.hosts,
        hostSpecs: argv as string[],
        identityFile: flags['identity-file'],
        options: engineOptionsOf(flags),
        providerOptions: providerFlagsOf(flags),
      },
      this.runOptions(flags),
    )
    this.showConverge(report)
    return report
  }
}
