import {Args, Flags} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {getFromHdfs} from '../../cluster/hdfs-copy.js'
import {renderCopyReport} from '../../output/render.js'
import type {HdfsCopyReport} from '../../output/results.js'
import {UsageError} from '../../remote/errors.js'
import {providerFlags} from '../../providers/registry.js'

export default class ClusterGet extends CmsCommand {
  static summary = "Copy files and folders of the cluster's HDFS to the local disk (hadoop clusters, and spark or nomad clusters made with --hdfs)."
  static description =
    "Like 'hdfs dfs -get': HDFS paths (absolute, or relative to /user/USER), then the local destination; a folder is copied whole; several sources need DEST to be a folder. Streamed from the DataNodes over the head's SSH connection through WebHDFS; each file is written under a temporary name and renamed when complete. A file that exists locally stops everything before anything is written, unless --force."
  static examples = [
    {description: 'The output folder of a job', command: '<%= config.bin %> <%= command.id %> -n lake /data/counts ./counts'},
    {description: 'Several files into a folder', command: '<%= config.bin %> <%= command.id %> -n lake /data/a.csv /data/b.csv ./downloads/'},
  ]
  static strict = false
  static args = {paths: Args.string({description: 'SRC... DEST: HDFS files or folders to copy, then the local destination.', required: true})}
  static flags = {
    name: clusterNameFlag,
    ...providerFlags,
    force: Flags.boolean({char: 'f', description: 'Replace local files that exist at the destination.', default: false}),
  }

  async run(): Promise<HdfsCopyReport> {
    const {flags, argv} = await this.parse(ClusterGet)
    const paths = argv as string[]
    if (paths.length < 2) throw new UsageError('get needs HDFS paths and a local destination (e.g. cms cluster get -n NAME /data/counts ./counts)')
    const report = await getFromHdfs({name: flags.name, sources: paths.slice(0, -1), dest: paths.at(-1)!, force: flags.force}, this.runOptions(flags))
    this.log(renderCopyReport(report))
    if (report.files.some((f) => !f.ok)) this.failWith(1)
    return report
  }
}
