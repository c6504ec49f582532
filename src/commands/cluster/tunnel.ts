import {spawn} from 'node:child_process'
import {Flags} from '@oclif/core'
import {CmsCommand, clusterNameFlag} from '../../cli/base-command.js'
import {openTunnel} from '../../cluster/tunnel.js'
import {renderTunnel} from '../../output/render.js'
import type {TunnelReport} from '../../output/results.js'

export default class ClusterTunnel extends CmsCommand {
  static summary = "Reach the engine's API and web UI from this machine through SSH, for native clients and browsers."
  static description = `Opens local forwards on 127.0.0.1 to the engine's API and web UI on the head (which listen on private addresses only): spark, the master UI and REST API; nomad, the HTTPS API and UI; kubernetes, the API server (KUBECONFIG and a SPARK_CONF_DIR for spark-submit, for -- COMMAND) and, with --hdfs, the NameNode's UI; hadoop, the NameNode's and ResourceManager's UIs and REST APIs and a SOCKS5 proxy to the hosts (HADOOP_CONF_DIR for -- COMMAND). It prints their local URLs and the environment a native client needs (NOMAD_ADDR, NOMAD_CACERT, ...), and holds them until Ctrl-C. Secrets such as NOMAD_TOKEN are never printed: --write-env writes them to a 0600 file (removed when the tunnel closes), and with a command after -- cms runs it with the full environment and closes the tunnel when it exits.`
  static examples = [
    {description: 'Hold the tunnel; use the printed URLs', command: '<%= config.bin %> <%= command.id %> -n demo'},
    {description: 'Run the native Nomad CLI through it', command: '<%= config.bin %> <%= command.id %> -n jobs -- nomad status'},
    {description: 'kubectl on a Kubernetes cluster', command: '<%= config.bin %> <%= command.id %> -n k8s -- kubectl get nodes'},
    {description: 'The Hadoop client on a Hadoop cluster', command: '<%= config.bin %> <%= command.id %> -n lake -- hdfs dfs -ls /'},
    {description: 'Secrets in a file for another shell', command: '<%= config.bin %> <%= command.id %> -n jobs --write-env ~/.cms-jobs.env'},
  ]
  static strict = false
  static flags = {
    name: clusterNameFlag,
    'write-env': Flags.string({description: 'Write the client environment, secrets included, to this file (0600; removed when the tunnel closes).'}),
  }

  async run(): Promise<TunnelReport> {
    const {flags} = await this.parse(ClusterTunnel)
    const dashdash = this.argv.indexOf('--')
    const command = dashdash >= 0 ? this.argv.slice(dashdash + 1) : []
    const tunnel = await openTunnel({name: flags.name, envFile: flags['write-env'], withSecrets: command.length > 0}, this.runOptions(flags))
    try {
      if (command.length > 0) {
        const code = await new Promise<number>((resolve) => {
          const child = spawn(command[0], command.slice(1), {stdio: 'inherit', env: {...process.env, ...tunnel.secretEnvironment}})
          child.on('error', (error) => {
            this.logToStderr(`Error: cannot run ${command[0]}: ${error.message}`)
            resolve(127)
          })
          child.on('close', (c) => resolve(c ?? 1))
        })
        if (code !== 0) this.failWith(code)
        return tunnel.report
      }
      this.log(renderTunnel(tunnel.report))
      this.logToStderr('Tunnel open; Ctrl-C closes it.')
      await this.holdUntilInterrupted(tunnel.report)
      return tunnel.report
    } finally {
      await tunnel.close()
    }
  }
}
