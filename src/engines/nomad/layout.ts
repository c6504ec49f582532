import {remoteClusterDir} from '../../cluster/manifest.js'

/** One Nomad agent's files: its configuration, data, log, pid and TLS certificate. */
export interface AgentFiles {
  config: string
  dataDir: string
  logFile: string
  pidFile: string
  hashFile: string
  certFile: string
  keyFile: string
}

/**
 * Where a cluster's Nomad agents live on a host; `home` is the remote user's $HOME. Every host runs a client agent;
 * server hosts also run a server agent, a separate process, so clients start only once the servers are ready.
 */
export interface NomadLayout {
  clusterDir: string
  dir: string
  tlsDir: string
  caFile: string
  client: AgentFiles
  server: AgentFiles
  /** On the head only: the CA key, the gossip key, the management token and cms's own client certificate. */
  secretsDir: string
}

function agentFiles(dir: string, tlsDir: string, name: 'client' | 'server'): AgentFiles {
  return {
    config: `${dir}/${name}.hcl`,
    dataDir: `${dir}/${name}-data`,
    logFile: `${dir}/${name}.log`,
    pidFile: `${dir}/${name}.pid`,
    hashFile: `${dir}/${name}.config-hash`,
    certFile: `${tlsDir}/${name}.pem`,
    keyFile: `${tlsDir}/${name}-key.pem`,
  }
}

export function nomadLayout(home: string, cluster: string): NomadLayout {
  const clusterDir = remoteClusterDir(home, cluster)
  const dir = `${clusterDir}/nomad`
  const tlsDir = `${dir}/tls`
  return {
    clusterDir,
    dir,
    tlsDir,
    caFile: `${tlsDir}/ca.pem`,
    client: agentFiles(dir, tlsDir, 'client'),
    server: agentFiles(dir, tlsDir, 'server'),
    secretsDir: `${dir}/secrets`,
  }
}

/** The head's secrets, each a 0600 file read over SSH when needed; never copied to the client's disk. */
export function secretFiles(l: NomadLayout) {
  return {
    caKey: `${l.secretsDir}/ca-key.pem`,
    gossipKey: `${l.secretsDir}/gossip.key`,
    token: `${l.secretsDir}/management.token`,
    cliCert: `${l.secretsDir}/cli.pem`,
    cliKey: `${l.secretsDir}/cli-key.pem`,
  }
}
