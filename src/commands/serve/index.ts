import {Flags} from '@oclif/core'
import {CmsCommand} from '../../cli/base-command.js'
import {s3OptionsOf, s3StoreFlags} from '../../cli/s3-flags.js'
import {serveDb, serveDbFlag} from '../../cli/serve-flags.js'
import {parseDuration} from '../../cluster/max-age.js'
import {localPaths} from '../../config/paths.js'
import {parseSize} from '../../serve/listen.js'
import {startServer} from '../../serve/run-server.js'

export default class Serve extends CmsCommand {
  static summary = 'Run the job service: a durable queue with priorities and retries in front of every cms cluster, over a REST API.'
  static description = `Tasks come in over HTTP (POST /task, /tasks; see GET /openapi.json), wait in a queue kept in the database (SQLite by default, PostgreSQL for a team: several servers may share one), and go to their cluster when its engine reports room for them, highest priority first. The service follows each job through the engine's own API, retries failed ones with a backoff, and keeps an audit trail of every change. Every request but GET /health needs an API key ('cms serve keys create'). Holds until Ctrl-C or SIGTERM.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --listen 127.0.0.1:8082',
    '<%= config.bin %> <%= command.id %> --listen 0.0.0.0:8443 --tls-cert c.pem --tls-key k.pem --db postgres://cms@db/cms',
    {description: 'Tasks whose specs name s3a:// paths get the credentials of the server\'s environment (or --s3-profile) at submission, never stored', command: '<%= config.bin %> <%= command.id %> --s3-endpoint http://10.0.0.5:9000'},
  ]
  static flags = {
    listen: Flags.string({description: 'HOST:PORT to listen on.', default: '127.0.0.1:8082'}),
    db: serveDbFlag,
    'data-dir': Flags.string({description: 'Where uploaded files are kept (servers sharing a PostgreSQL share this folder too). [default: $CMS_HOME/serve]'}),
    'tls-cert': Flags.string({description: 'TLS certificate (PEM) to serve HTTPS with.'}),
    'tls-key': Flags.string({description: 'Its private key (PEM).'}),
    cluster: Flags.string({description: 'Only this cluster (repeatable); default: every cluster the providers know.', multiple: true}),
    'default-cluster': Flags.string({description: 'The cluster of a classic-form task ({jobId, jobType, ...}) that names none.'}),
    'max-running': Flags.integer({description: 'At most this many active tasks per cluster (capacity alone decides otherwise).', min: 1}),
    sources: Flags.string({description: 'Job sources file (YAML): folders, PostgreSQL tables and RabbitMQ queues whose work becomes tasks (see the README).'}),
    autoscale: Flags.string({description: 'Grow and shrink a cluster with the queue: NAME:min=N,max=M[,idle=15m][,wait=1m] (hosts, the head included; repeatable). Hosts are added when tasks have waited `wait` for its room, idle ones removed after `idle`.', multiple: true}),
    'webhook-secret-file': Flags.string({description: 'File whose first line (32+ characters) signs webhook calls (x-cms-signature); without it, tasks may not name a webhook.', env: 'CMS_SERVE_WEBHOOK_SECRET_FILE'}),
    retain: Flags.string({description: 'How long finished tasks (with their events and files) are kept.', default: '30d'}),
    'max-upload': Flags.string({description: 'Largest uploaded file.', default: '512m'}),
    'log-level': Flags.string({description: 'Log level on stderr.', default: 'info', options: ['fatal', 'error', 'warn', 'info', 'debug']}),
    ...s3StoreFlags,
  }

  async run(): Promise<{url: string}> {
    const {flags} = await this.parse(Serve)
    const server = await startServer(
      {
        listen: flags.listen,
        db: serveDb(flags.db),
        dataDir: flags['data-dir'] ?? localPaths.serveDataDir(),
        tlsCert: flags['tls-cert'],
        tlsKey: flags['tls-key'],
        clusters: flags.cluster,
        defaultCluster: flags['default-cluster'],
        maxRunning: flags['max-running'],
        retainMs: parseDuration(flags.retain, '--retain') * 1000,
        webhookSecretFile: flags['webhook-secret-file'],
        sourcesFile: flags.sources,
        autoscale: flags.autoscale,
        s3: s3OptionsOf(flags),
        maxUploadBytes: parseSize(flags['max-upload'], '--max-upload'),
        logLevel: flags['log-level'],
        version: this.config.version,
      },
      this.runOptions(flags),
    )
    this.log(`cms serve: listening on ${server.url}`)
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve())
      process.once('SIGTERM', () => resolve())
    })
    this.logToStderr('cms serve: stopping')
    await server.close()
    return {url: server.url}
  }
}
