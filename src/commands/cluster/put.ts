import {Args, Flags} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {putToHdfs} from '../../cluster/hdfs-copy.js'
import {renderCopyReport} from '../../output/render.js'
import type {HdfsCopyReport} from '../../output/results.js'
import {UsageError} from '../../remote/errors.js'
import {providerFlags} from '../../providers/registry.js'

export default class ClusterPut extends CmsCommand {
  static summary = "Copy local files and folders into the cluster's HDFS (hadoop clusters, and spark or nomad clusters made with --hdfs)."
  static description =
    "Like 'hdfs dfs -put': the last argument is the HDFS destination (absolute, or relative to /user/USER); a folder is copied whole; several sources need DEST to be a folder. Streamed over the head's SSH connection through WebHDFS (the NameNode and the DataNodes stay on the private network). A file that exists at the destination stops everything before anything is written, unless --force."
  static examples = [
    {description: 'A file into a folder', command: '<%= config.bin %> <%= command.id %> -n lake ./events.csv /data/'},
    {description: 'A folder, replacing what is there', command: '<%= config.bin %> <%= command.id %> -n lake ./input /data/input --force'},
  ]
  static strict = false
  static args = {paths: Args.string({description: 'LOCAL... DEST: files or folders to copy, then the HDFS destination.', required: true})}
  static flags = {
    name: clusterNameFlag,
    ...providerFlags,
    force: Flags.boolean({char: 'f', description: 'Replace files that exist at the destination.', default: false}),
  }

  async run(): Promise<HdfsCopyReport> {
    const {flags, argv} = await this.parse(ClusterPut)
    const paths = argv as string[]
    if (paths.length < 2) throw new UsageError('put needs LOCAL... and an HDFS destination (e.g. cms cluster put -n NAME ./data.csv /data/)')
    const report = await putToHdfs({name: flags.name, sources: paths.slice(0, -1), dest: paths.at(-1)!, force: flags.force}, this.runOptions(flags))
    this.log(renderCopyReport(report))
    if (report.files.some((f) => !f.ok)) this.failWith(1)
    return report
  }
}
