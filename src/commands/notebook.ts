import {spawn} from 'node:child_process'
import {Flags} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../cli/base-command.js'
import {openNotebook} from '../cluster/notebook.js'
import {renderNotebook} from '../output/render.js'
import type {NotebookReport} from '../output/results.js'

export default class Notebook extends CmsCommand {
  static summary = "JupyterLab on the cluster, its PySpark wired to the cluster, reached through an SSH tunnel (or the API's port-forward)."
  static description = `Starts JupyterLab on the cluster (once; later runs reattach to it), listening on the cluster's private network with a random token, and prints its login link on this machine (127.0.0.1, a local forward over the head's SSH connection; on a Kubernetes cluster attached with cms cluster attach, through the API server's port-forward); holds the tunnel until Ctrl-C, which leaves the server running. SparkSession.builder.getOrCreate() in a notebook starts a driver in the kernel: spark, on the head with the master (executors on the workers); hadoop, on the head in YARN client mode (executors in NodeManager containers); kubernetes, in a pod of the notebook image (cms image build notebook, cms image load) running as the namespace's Spark service account (executor pods). Notebooks live in a folder on the head (a volume claim on Kubernetes) that --stop keeps. JupyterLab and its Python dependencies come from PyPI to this machine once (python3 -m pip; cached in ~/.cache/cms/dist, or CMS_DIST_CACHE) and are shipped to the head like every other archive: hosts need no internet.`
  static examples = [
    {description: 'Start (or reattach) and print the link', command: '<%= config.bin %> <%= command.id %> -n demo'},
    {description: 'Open the link in the browser', command: '<%= config.bin %> <%= command.id %> -n demo --open'},
    {description: 'Stop the server (the notebooks stay)', command: '<%= config.bin %> <%= command.id %> -n demo --stop'},
  ]
  static flags = {
    name: clusterNameFlag,
    open: Flags.boolean({description: 'Open the login link in the default browser (xdg-open, open).', exclusive: ['stop']}),
    stop: Flags.boolean({description: 'Stop the server and its kernels; the notebooks stay on the head.'}),
  }

  async run(): Promise<NotebookReport> {
    const {flags} = await this.parse(Notebook)
    const notebook = await openNotebook({name: flags.name, stop: flags.stop}, this.runOptions(flags))
    try {
      this.log(renderNotebook(notebook.report))
      if (!notebook.report.url) return notebook.report
      if (flags.open) this.openBrowser(notebook.report.url)
      this.logToStderr('Tunnel open; Ctrl-C closes it (the server keeps running: --stop removes it).')
      await this.holdUntilInterrupted(notebook.report)
      return notebook.report
    } finally {
      await notebook.close()
    }
  }

  private openBrowser(url: string): void {
    const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
    const child = spawn(opener, [url], {stdio: 'ignore', detached: true})
    child.on('error', (error) => this.logToStderr(`cannot open a browser (${opener}: ${error.message}): open the link above yourself`))
    child.unref()
  }
}
