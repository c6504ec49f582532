import {Flags} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {attachCluster, type AttachReport} from '../../cluster/attach.js'

export default class ClusterAttach extends CmsCommand {
  static summary = 'Register a Kubernetes or Nomad cluster cms did not make, so submit, job, info and list work on it.'
  static description =
    "Writes an access file only (0600): no host is managed, so 'cms cluster kill' and 'remove' refuse the cluster and 'cms cluster detach' forgets it. Kubernetes: the kubeconfig is named by its path and read at each use (any authentication kubectl's client library supports), its server reached directly. Nomad: the address and, as the nomad CLI reads them, NOMAD_TOKEN (kept in the access file), NOMAD_CACERT, NOMAD_CLIENT_CERT, NOMAD_CLIENT_KEY and NOMAD_TLS_SERVER_NAME (files named by path). The API is asked once first: nothing is written when it does not answer."
  static examples = [
    {description: 'A Kubernetes cluster', command: '<%= config.bin %> <%= command.id %> -n prod --kubeconfig ~/.kube/config --context prod-admin'},
    {description: 'A Nomad cluster with mutual TLS', command: 'NOMAD_TOKEN=... NOMAD_CACERT=ca.pem NOMAD_CLIENT_CERT=cli.pem NOMAD_CLIENT_KEY=cli-key.pem <%= config.bin %> <%= command.id %> -n batch --nomad-addr https://10.0.0.5:4646'},
  ]
  static flags = {
    name: clusterNameFlag,
    kubeconfig: Flags.string({description: 'A Kubernetes cluster: its kubeconfig file.', exclusive: ['nomad-addr']}),
    context: Flags.string({description: 'The kubeconfig context to use [default: its current context].', dependsOn: ['kubeconfig']}),
    'nomad-addr': Flags.string({description: 'A Nomad cluster: an agent\'s HTTP API address (http[s]://HOST:PORT).', exclusive: ['kubeconfig']}),
  }

  async run(): Promise<AttachReport> {
    const {flags} = await this.parse(ClusterAttach)
    const report = await attachCluster({name: flags.name, kubeconfig: flags.kubeconfig, context: flags.context, nomadAddr: flags['nomad-addr']}, process.env)
    this.log(`Attached ${report.engine} cluster ${report.name}: ${report.detail}.`)
    return report
  }
}
