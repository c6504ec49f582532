import {remoteClusterDir} from '../../cluster/manifest.js'
import type {HadoopDirs} from './site-config.js'

/** Debian packages a hadoop host made from a stock cloud image needs (Hadoop and Spark are JVMs; Spark's Python apps need python3). */
export const HADOOP_HOST_PACKAGES = ['openjdk-17-jre-headless', 'python3', 'curl', 'tar', 'gzip']

export type HadoopDaemon = 'namenode' | 'resourcemanager' | 'datanode' | 'nodemanager'

/** The head's daemons; every computing host runs the others. */
export const HEAD_DAEMONS: readonly HadoopDaemon[] = ['namenode', 'resourcemanager']
export const WORKER_DAEMONS: readonly HadoopDaemon[] = ['datanode', 'nodemanager']

/** Each daemon's heap: small clusters, small daemons (the NodeManager's containers have their own JVMs). */
export const DAEMON_HEAP: Record<HadoopDaemon, string> = {namenode: '512m', resourcemanager: '512m', datanode: '256m', nodemanager: '256m'}

/** Where a hadoop cluster lives on a host; `home` is the remote user's $HOME, every path is absolute. */
export interface HadoopLayout {
  clusterDir: string
  /** HADOOP_CONF_DIR. */
  confDir: string
  /** Spark's configuration for YARN (SPARK_CONF_DIR of jobs submitted on the head). */
  sparkConfDir: string
  logDir: string
  runDir: string
  dataDir: string
  dirs: HadoopDirs
}

export function hadoopLayout(home: string, cluster: string): HadoopLayout {
  const clusterDir = remoteClusterDir(home, cluster)
  const confDir = `${clusterDir}/hadoop-conf`
  const dataDir = `${clusterDir}/data`
  return {
    clusterDir,
    confDir,
    sparkConfDir: `${clusterDir}/spark-conf`,
    logDir: `${clusterDir}/logs`,
    runDir: `${clusterDir}/run`,
    dataDir,
    dirs: {
      tmp: `${dataDir}/tmp`,
      name: `${dataDir}/namenode`,
      data: [`${dataDir}/datanode`],
      nmLocal: [`${dataDir}/nm-local`],
      nmLog: `${clusterDir}/logs/containers`,
      conf: confDir,
    },
  }
}

export function pidFile(layout: HadoopLayout, daemon: HadoopDaemon): string {
  return `${layout.runDir}/${daemon}.pid`
}

export function daemonLog(layout: HadoopLayout, daemon: HadoopDaemon): string {
  return `${layout.logDir}/${daemon}.log`
}
