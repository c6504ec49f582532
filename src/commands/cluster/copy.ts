import {Args} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {hostsSelectorFlag} from '../../cli/host-flags.js'
import {helpWords} from '../../cli/registry-words.js'
import {copyToHosts} from '../../cluster/copy-file.js'
import {renderFileCopy} from '../../output/render.js'
import type {FileCopyReport} from '../../output/results.js'

export default class ClusterCopy extends CmsCommand {
  static summary = 'Put a local file on every host of a cluster: one upload to the head, the other hosts fetch it there.'
  static description = `As engines ship their archives, on every provider (${helpWords.allProviders}): the file goes once from this machine to the head, and the other hosts fetch it from a short-lived server on the head's private address (or get it uploaded when they lack curl). Each copy is checked against the file's sha256 before it replaces anything; it keeps the file's mode. REMOTE is absolute, relative to the login home (~/ too), or a folder to put the file in. Exit 1 if any host failed; a missing local file exits 2 before any host is contacted.`
  static examples = [
    {description: 'A config file on every host', command: '<%= config.bin %> <%= command.id %> -n demo ./app.conf /etc/app.conf'},
    {description: 'Into the login home of the workers only', command: '<%= config.bin %> <%= command.id %> -n lab ./data.csv ~/ --hosts worker'},
    {description: 'For scripts', command: '<%= config.bin %> <%= command.id %> -n etl ./model.bin /opt/model.bin --json | jq .hosts'},
  ]
  static args = {
    local: Args.string({description: 'The local file.', required: true}),
    remote: Args.string({description: 'Where on each host: a path, or a folder to put the file in.', required: true}),
  }
  static flags = {name: clusterNameFlag, hosts: hostsSelectorFlag}

  async run(): Promise<FileCopyReport> {
    const {flags, args} = await this.parse(ClusterCopy)
    const report = await copyToHosts({name: flags.name, local: args.local, remote: args.remote, selectors: flags.hosts ?? []}, this.runOptions(flags))
    this.log(renderFileCopy(report))
    if (report.hosts.some((h) => !h.ok)) this.failWith(1)
    return report
  }
}
