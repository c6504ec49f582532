import {Args} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {commandAfterDashes} from '../../cli/dash-command.js'
import {helpWords} from '../../cli/registry-words.js'
import {loginToHost} from '../../cluster/host-login.js'
import {UsageError} from '../../remote/errors.js'

export default class ClusterSsh extends CmsCommand {
  static summary = "Log in to the cluster's head (or another host) with the system ssh, or run one command there."
  static description = `Runs OpenSSH's ssh with the cluster's key and the host keys cms verified (a private known_hosts file, StrictHostKeyChecking=yes: a host that presents another key is refused), as the user and port cms logs in with, on every provider (${helpWords.allProviders}). A terminal when run from one without a command. With -- COMMAND, its words are joined with spaces for the remote shell, as ssh does. The exit code is the remote command's (255: ssh itself failed). --json does not apply: the output is the remote's own.`
  static examples = [
    {description: 'A shell on the head', command: '<%= config.bin %> <%= command.id %> -n demo'},
    {description: 'A shell on another host, by its name in cms cluster info', command: '<%= config.bin %> <%= command.id %> -n demo cms-demo-2'},
    {description: 'One command on the head of an ssh cluster; its exit code is cms\'s', command: '<%= config.bin %> <%= command.id %> -n lab -- df -h /'},
    {description: 'A host of an aws cluster, by its address', command: '<%= config.bin %> <%= command.id %> -n etl 10.0.1.17 -- uptime'},
  ]
  static usage = '<%= command.id %> -n NAME [HOST] [-- COMMAND...]'
  static enableJsonFlag = false
  static strict = false
  static args = {host: Args.string({description: "A host as 'cms cluster info' names it, or its address [default: the head]."})}
  static flags = {name: clusterNameFlag}

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ClusterSsh)
    const {before, command} = commandAfterDashes(this.argv, argv as string[])
    if (before.length > 1) throw new UsageError(`one host at most (got ${before.join(' ')}): put the command after -- (e.g. cms cluster ssh -n ${flags.name} ${before[0]} -- ${before.slice(1).join(' ')})`)
    const code = await loginToHost({name: flags.name, host: before[0], command, tty: command.length === 0 && Boolean(process.stdin.isTTY)}, this.runOptions(flags))
    this.failWith(code)
  }
}
