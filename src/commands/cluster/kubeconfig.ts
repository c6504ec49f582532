import {Flags} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {writeKubeconfig} from '../../cluster/kubeconfig.js'
import type {KubeconfigReport} from '../../output/results.js'

export default class ClusterKubeconfig extends CmsCommand {
  static summary = "Write a Kubernetes cluster's kubeconfig for kubectl (merged into $KUBECONFIG as a new context)."
  static description =
    "Merges a context named cms-NAME into the first file of $KUBECONFIG (else ~/.kube/config), 0600, keeping every other entry. Its server is 127.0.0.1 at the port 'cms cluster tunnel -n NAME' opens for this cluster: keep a tunnel open while kubectl runs. The file holds the cluster's admin credentials; cms never prints them."
  static examples = [
    {description: 'Then, with a tunnel open in another shell', command: '<%= config.bin %> <%= command.id %> -n k8s && kubectl --context cms-k8s get nodes'},
    {description: 'A separate file', command: '<%= config.bin %> <%= command.id %> -n k8s --file ./k8s.kubeconfig'},
  ]
  static flags = {
    name: clusterNameFlag,
    file: Flags.string({description: 'The kubeconfig file to write or merge into [default: the first file of $KUBECONFIG, else ~/.kube/config].'}),
  }

  async run(): Promise<KubeconfigReport> {
    const {flags} = await this.parse(ClusterKubeconfig)
    const report = await writeKubeconfig({name: flags.name, file: flags.file}, this.runOptions(flags))
    this.log(`${report.merged ? 'Merged' : 'Wrote'} context ${report.context} into ${report.file} (server ${report.server}).`)
    this.log(`Open the tunnel with 'cms cluster tunnel -n ${report.cluster}', then: kubectl --context ${report.context} get nodes`)
    return report
  }
}
