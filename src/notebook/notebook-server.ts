import type {JupyterServerInfo} from './server-info.js'

/** A running JupyterLab server: where it listens (an address the head reaches) and its login record. */
export interface RunningServer {
  address: string
  info: JupyterServerInfo
}

/**
 * A cluster's JupyterLab server, as its engine runs it: a process on the head (spark, hadoop) or a pod
 * (kubernetes). cms reaches it through the head's SSH connection.
 */
export interface NotebookServer {
  /** Where the notebooks live (a folder on the head, a volume claim), for messages and --json. */
  readonly notebooks: string
  /** The server that runs, or undefined. */
  find(): Promise<RunningServer | undefined>
  /** Starts a server (none runs) and waits, bounded, until it is ready. */
  start(): Promise<RunningServer>
  /** Stops the server and its kernels; the notebooks stay. */
  stop(): Promise<'stopped' | 'not running'>
}
