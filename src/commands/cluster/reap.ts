import {Flags} from '@oclif/core'
import {providerFlags} from '../../providers/registry.js'
import {CmsCommand} from '../../cli/base-command.js'
import {reapClusters} from '../../cluster/reap.js'
import {renderReap} from '../../output/render.js'
import type {ReapReport} from '../../output/results.js'

export default class ClusterReap extends CmsCommand {
  static summary = 'Kill every cluster past its --max-age.'
  static description = `Finds clusters created with --max-age that have lived longer (aws: in the region in use, from instance tags; openstack: in the project in use, from server metadata) and kills each of them like 'cms cluster kill'. Asks on a terminal unless --yes; made for cron. Exit 1 if a kill failed.`
  static examples = [
    {description: 'See what would go', command: '<%= config.bin %> <%= command.id %> --dry-run'},
    {description: 'Hourly, from cron', command: '<%= config.bin %> <%= command.id %> --yes --region eu-west-1'},
  ]
  static flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.', default: false}),
    'dry-run': Flags.boolean({description: 'Only list the expired clusters.', default: false}),
    ...providerFlags,
  }

  async run(): Promise<ReapReport> {
    const {flags} = await this.parse(ClusterReap)
    const ask = !flags.yes && !flags['dry-run'] && process.stdin.isTTY && process.stderr.isTTY
    const report = await reapClusters(this.runOptions(flags), {
      dryRun: flags['dry-run'],
      confirm: ask
        ? async (names) => {
            const {confirm} = await import('@inquirer/prompts')
            return confirm({message: `Destroy ${names.length} expired clusters (${names.join(', ')})?`, default: false}, {output: process.stderr})
          }
        : undefined,
    })
    this.log(renderReap(report))
    if (report.failed.length > 0) this.failWith(1)
    return report
  }
}
