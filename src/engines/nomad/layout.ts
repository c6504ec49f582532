import {remoteClusterDir} from '../../cluster/manifest.js'

/** Where a Nomad agent of a cluster lives on a host; `home` is the remote user's $HOME. */
export interface NomadLayout {
  clusterDir: string
  dir: string
  config: string
  tlsDir: string
  caFile: string
  certFile: string
  keyFile: string
  dataDir: string
  logFile: string
  pidFile: string
  hashFile: string
  /** On the head only: the CA key, the gossip key, the management token and cms's own client certificate. */
  secretsDir: string
}

export function nomadLayout(home: string, cluster: string): NomadLayout {
  const clusterDir = remoteClusterDir(home, cluster)
  const dir = `${clusterDir}/nomad`
  const tlsDir = `${dir}/tls`
  return {
    clusterDir,
    dir,
    config: `${dir}/agent.hcl`,
    tlsDir,
    caFile: `${tlsDir}/ca.pem`,
    certFile: `${tlsDir}/agent.pem`,
    keyFile: `${tlsDir}/agent-key.pem`,
    dataDir: `${dir}/data`,
    logFile: `${dir}/agent.log`,
    pidFile: `${dir}/agent.pid`,
    hashFile: `${dir}/agent.config-hash`,
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
