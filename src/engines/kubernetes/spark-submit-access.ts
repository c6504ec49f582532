import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {SPARK_SERVICE_ACCOUNT, sparkServiceAccountObjects} from '../../jobs/kubernetes-translate.js'
import {UsageError} from '../../remote/errors.js'
import type {HostContext} from '../host-context.js'
import {openClusterApi} from './api-access.js'
import {newestSparkImageOnHead} from './job-service-factory.js'
import {addTokenContext} from './kubeconfig.js'

/** The namespace a stock spark-submit through the tunnel runs its driver in. */
export const SPARK_SUBMIT_NAMESPACE = 'default'
/** How long the submission token of a tunnel is valid (a new tunnel makes a new one). */
export const SPARK_SUBMIT_TOKEN_SECONDS = 12 * 3600

export interface SparkSubmitDefaultsInput {
  /** The API server at the tunnel's local address (https://127.0.0.1:PORT). */
  apiUrl: string
  namespace: string
  caFile: string
  tokenFile: string
  /** The Spark image on the nodes (none loaded yet: spark-submit must be given one). */
  image?: string
}

/**
 * spark-defaults.conf for a stock spark-submit from this machine: the master at the tunnel, cluster deploy mode (a
 * driver here could not be reached by executor pods), the namespace, the submission authenticated as the
 * namespace's Spark service account (its token and the cluster's CA as files, never in a property's value), the
 * driver running as that account, the image cms loaded. Command-line options still win.
 */
export function sparkSubmitDefaults(input: SparkSubmitDefaultsInput): string {
  const props: Record<string, string> = {
    'spark.master': `k8s://${input.apiUrl}`,
    'spark.submit.deployMode': 'cluster',
    'spark.kubernetes.namespace': input.namespace,
    'spark.kubernetes.authenticate.submission.caCertFile': input.caFile,
    'spark.kubernetes.authenticate.submission.oauthTokenFile': input.tokenFile,
    'spark.kubernetes.authenticate.driver.serviceAccountName': SPARK_SERVICE_ACCOUNT,
    ...(input.image ? {'spark.kubernetes.container.image': input.image} : {}),
  }
  for (const [k, v] of Object.entries(props)) if (/[\s]/.test(v)) throw new Error(`${k}: ${JSON.stringify(v)} cannot be written in spark-defaults.conf`)
  return Object.entries(props)
    .map(([k, v]) => `${k} ${v}\n`)
    .join('')
}

/**
 * What a stock spark-submit needs to run on the cluster through the tunnel: the namespace's Spark service account
 * (applied, idempotent), a token of it (as files, and as a context `cms-NAME-spark` of the tunnel's kubeconfig for
 * kubectl --context), the cluster's CA, and a SPARK_CONF_DIR whose spark-defaults.conf points at them. Files go in `dir` (the
 * tunnel's private folder, 0600, removed when it closes).
 */
export async function sparkSubmitEnvironment(input: {cluster: string; head: HostContext; apiUrl: string; dir: string; kubeconfig: string}): Promise<Record<string, string>> {
  const namespace = SPARK_SUBMIT_NAMESPACE
  const {api, caPem, close} = await openClusterApi({session: input.head.session, address: input.head.address, home: input.head.facts.home}, input.cluster)
  try {
    await api.apply(sparkServiceAccountObjects(namespace))
    const token = await api.serviceAccountToken(namespace, SPARK_SERVICE_ACCOUNT, SPARK_SUBMIT_TOKEN_SECONDS)
    const image = await newestSparkImageOnHead(input).catch((error: unknown) => {
      if (error instanceof UsageError) return undefined
      throw error
    })
    const confDir = join(input.dir, 'spark-conf')
    const caFile = join(input.dir, 'ca.pem')
    const tokenFile = join(input.dir, 'spark-token')
    mkdirSync(confDir, {mode: 0o700})
    writeFileSync(caFile, caPem, {mode: 0o600})
    writeFileSync(tokenFile, token, {mode: 0o600})
    const context = `cms-${input.cluster}-spark`
    writeFileSync(input.kubeconfig, addTokenContext(readFileSync(input.kubeconfig, 'utf8'), {contextName: context, userName: context, token, namespace}), {mode: 0o600})
    writeFileSync(join(confDir, 'spark-defaults.conf'), sparkSubmitDefaults({apiUrl: input.apiUrl, namespace, caFile, tokenFile, image}), {mode: 0o600})
    // Spark's Kubernetes client (fabric8) would also read $KUBECONFIG, the admin's, and fail on its EC key ("Invalid
    // DER"); told not to, it takes only what spark-defaults.conf gives it. The submitting JVM alone gets the property.
    const submitOpts = [process.env.SPARK_SUBMIT_OPTS, '-Dkubernetes.auth.tryKubeConfig=false'].filter(Boolean).join(' ')
    return {SPARK_CONF_DIR: confDir, SPARK_SUBMIT_OPTS: submitOpts}
  } finally {
    await close()
  }
}
