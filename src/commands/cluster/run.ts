import {Flags} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {hostsSelectorFlag} from '../../cli/host-flags.js'
import {commandAfterDashes} from '../../cli/dash-command.js'
import {helpWords} from '../../cli/registry-words.js'
import {runOnHosts} from '../../cluster/run-command.js'
import {renderHostOutput, renderRunSummary} from '../../output/render.js'
import type {RunReport} from '../../output/results.js'
import {UsageError} from '../../remote/errors.js'

export default class ClusterRun extends CmsCommand {
  static summary = 'Run a command on every host of a cluster at once and show what each host said.'
  static description = `Over cms's own SSH connections (the cluster's key, verified host keys), on every provider (${helpWords.allProviders}). The command's words are joined with spaces for each host's shell, as ssh does. Each host's output is printed under its name as soon as it is done (its stderr on stderr); --json gives {host, role, exitCode, stdout, stderr} per host. Exit 1 if the command failed or could not run on any host.`
  static examples = [
    {description: 'Every host', command: '<%= config.bin %> <%= command.id %> -n demo -- uptime'},
    {description: 'The workers only, for scripts', command: '<%= config.bin %> <%= command.id %> -n demo --hosts worker --json -- df -h / | jq \'.hosts[] | {host, exitCode}\''},
    {description: 'Two hosts of an ssh cluster, with a shell pipeline (quoted: the hosts\' shells run it)', command: '<%= config.bin %> <%= command.id %> -n lab --hosts 10.0.0.6,10.0.0.7 -- \'ps aux | grep -c java\''},
  ]
  static usage = '<%= command.id %> -n NAME [--hosts ROLE|HOST...] [--timeout S] [--json] -- COMMAND...'
  static strict = false
  static flags = {
    name: clusterNameFlag,
    hosts: hostsSelectorFlag,
    timeout: Flags.integer({description: 'Stop the command on a host after this many seconds (that host fails).', min: 1}),
  }

  async run(): Promise<RunReport> {
    const {flags, argv} = await this.parse(ClusterRun)
    const {before, command} = commandAfterDashes(this.argv, argv as string[])
    if (before.length > 0) throw new UsageError(`unexpected ${before.join(' ')}: put the command after -- (e.g. cms cluster run -n ${flags.name} -- ${before.join(' ')})`)
    const json = this.jsonEnabled()
    const report = await runOnHosts(
      {
        name: flags.name,
        selectors: flags.hosts ?? [],
        command,
        timeoutMs: flags.timeout === undefined ? undefined : flags.timeout * 1000,
        onHost: json ? undefined : (r) => {
          const {stdout, stderr} = renderHostOutput(r)
          process.stdout.write(stdout)
          process.stderr.write(stderr)
        },
      },
      this.runOptions(flags),
    )
    const failed = report.hosts.filter((h) => h.exitCode !== 0)
    if (!json && failed.length > 0) this.logToStderr(renderRunSummary(report))
    if (failed.length > 0) this.failWith(1)
    return report
  }
}
