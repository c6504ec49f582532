import {remoteClusterDir} from '../../cluster/manifest.js'

/** Debian packages Spark needs on a host made from a stock cloud image (installed by cloud-init; docker's image has them). */
export const SPARK_HOST_PACKAGES = ['openjdk-17-jre-headless', 'python3', 'curl', 'tar', 'gzip']

export const SPARK_PORTS = {master: 7077, masterUi: 8080, rest: 6066, workerUi: 8081} as const

/** Where things live on a host; `home` is the remote user's $HOME, every path is absolute. */
export interface SparkLayout {
  distRoot: string
  distDir: string
  distArchive: string
  clusterDir: string
  confDir: string
  logDir: string
  workDir: string
  runDir: string
  ident: string
}

export function sparkLayout(home: string, cluster: string, distId: string, archiveExt: string): SparkLayout {
  const distRoot = `${home}/.cms/dist`
  const clusterDir = remoteClusterDir(home, cluster)
  return {
    distRoot,
    distDir: `${distRoot}/${distId}`,
    distArchive: `${distRoot}/${distId}${archiveExt}`,
    clusterDir,
    confDir: `${clusterDir}/conf`,
    logDir: `${clusterDir}/logs`,
    workDir: `${clusterDir}/work`,
    runDir: `${clusterDir}/run`,
    ident: `cms-${cluster}`,
  }
}

export type SparkDaemon = 'master' | 'worker'

export const DAEMON_CLASS: Record<SparkDaemon, string> = {
  master: 'org.apache.spark.deploy.master.Master',
  worker: 'org.apache.spark.deploy.worker.Worker',
}

/** spark-daemon.sh names its pid file after the ident string, the daemon class and the instance number. */
export function pidFile(layout: SparkLayout, daemon: SparkDaemon): string {
  return `${layout.runDir}/spark-${layout.ident}-${DAEMON_CLASS[daemon]}-1.pid`
}
