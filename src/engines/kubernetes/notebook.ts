import {randomBytes} from 'node:crypto'
import type {V1Pod, V1Secret} from '@kubernetes/client-node'
import {DEFAULT_API_SERVER, MANAGED_BY, SPARK_SERVICE_ACCOUNT, sparkServiceAccountObjects, type KubernetesObject} from '../../jobs/kubernetes-translate.js'
import type {NotebookServer, RunningServer} from '../../notebook/notebook-server.js'
import {JUPYTER_PORT, pysparkSubmitArgs} from '../../notebook/server-scripts.js'
import {UsageError} from '../../remote/errors.js'
import type {ClusterApi} from './cluster-api.js'
import {newestImageTag, sparkImageOf} from './job-service-factory.js'

/** Where the notebook runs: the namespace a stock spark-submit uses too, with its Spark service account. */
export const NOTEBOOK_NAMESPACE = 'default'
export const NOTEBOOK_NAME = 'cms-notebook'
const TOKEN_SECRET = `${NOTEBOOK_NAME}-token`
const NOTEBOOK_IMAGE_REPOSITORY = 'docker.io/cms/notebook'
const NOTEBOOKS_MOUNT = '/home/notebook/work'
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
const READY_MS = 180_000
const GONE_MS = 90_000

export interface NotebookPodInput {
  namespace: string
  /** cms/notebook:VERSION, on every node. */
  image: string
  /** cms/spark:VERSION for the executor pods, on every node. */
  sparkImage: string
  /** The volume claim's size. */
  storage: string
}

/**
 * The kernels' Spark: the driver in the notebook's pod (client mode, at the pod's IP, named after the pod so its
 * executors are owned by it and go with it), asking the API as the pod's service account for executor pods of the
 * Spark image. The driver polls its executors, which works on every cms cluster (a watch fails on one made before cms
 * turned the API server's WatchList gate off: see KubernetesSpecInput.executorWatcher).
 */
export function notebookSubmitArgs(input: Pick<NotebookPodInput, 'namespace' | 'sparkImage'>): string[] {
  const conf: Record<string, string> = {
    'spark.kubernetes.namespace': input.namespace,
    'spark.kubernetes.container.image': input.sparkImage,
    'spark.kubernetes.container.image.pullPolicy': 'Never',
    'spark.driver.host': '$(CMS_POD_IP)',
    'spark.driver.bindAddress': '$(CMS_POD_IP)',
    'spark.kubernetes.driver.pod.name': '$(CMS_POD_NAME)',
    'spark.kubernetes.authenticate.caCertFile': `${SERVICE_ACCOUNT_DIR}/ca.crt`,
    'spark.kubernetes.authenticate.oauthTokenFile': `${SERVICE_ACCOUNT_DIR}/token`,
    'spark.kubernetes.executor.enableApiWatcher': 'false',
    'spark.kubernetes.executor.apiPollingInterval': '5s',
    'spark.kubernetes.executor.label.app.kubernetes.io/managed-by': 'cms',
    'spark.kubernetes.executor.label.cms.notebook': NOTEBOOK_NAME,
  }
  return ['--master', `k8s://${DEFAULT_API_SERVER}`, '--deploy-mode', 'client', ...Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`])]
}

/**
 * The notebook's objects: its volume claim (the default StorageClass: node-local disk), the Secret with Jupyter's
 * token, and the pod running JupyterLab on its own IP (the pod network is the cluster's private network) as the
 * namespace's Spark service account.
 */
export function notebookObjects(input: NotebookPodInput, token: string): KubernetesObject[] {
  const meta = (name: string) => ({name, namespace: input.namespace, labels: {...MANAGED_BY, 'cms.notebook': NOTEBOOK_NAME}})
  return [
    {apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta(NOTEBOOK_NAME), spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: input.storage}}}},
    {apiVersion: 'v1', kind: 'Secret', metadata: meta(TOKEN_SECRET), type: 'Opaque', data: {token: Buffer.from(token).toString('base64')}},
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(NOTEBOOK_NAME),
      spec: {
        serviceAccountName: SPARK_SERVICE_ACCOUNT,
        restartPolicy: 'Always',
        securityContext: {runAsUser: 185, runAsGroup: 185, fsGroup: 185},
        containers: [
          {
            name: 'jupyterlab',
            image: input.image,
            imagePullPolicy: 'Never',
            // Every address of the pod, i.e. its IP on the pod network and its loopback: cms reaches the pod's IP through
            // a head; an attached cluster's API port-forward dials the port on the pod's loopback.
            command: ['python3', '-m', 'jupyterlab', '--no-browser', '--ip=0.0.0.0', `--port=${JUPYTER_PORT}`, `--ServerApp.root_dir=${NOTEBOOKS_MOUNT}`],
            env: [
              {name: 'CMS_POD_IP', valueFrom: {fieldRef: {fieldPath: 'status.podIP'}}},
              {name: 'CMS_POD_NAME', valueFrom: {fieldRef: {fieldPath: 'metadata.name'}}},
              {name: 'JUPYTER_TOKEN', valueFrom: {secretKeyRef: {name: TOKEN_SECRET, key: 'token'}}},
              {name: 'PYSPARK_PYTHON', value: 'python3'},
              {name: 'PYSPARK_SUBMIT_ARGS', value: pysparkSubmitArgs({sparkHome: '/opt/spark', env: {}, submitArgs: notebookSubmitArgs(input)})},
            ],
            ports: [{name: 'http', containerPort: JUPYTER_PORT}],
            // /api answers without a token once the server is up.
            readinessProbe: {httpGet: {path: '/api', port: JUPYTER_PORT}, periodSeconds: 2},
            resources: {requests: {cpu: '100m', memory: '1Gi'}},
            volumeMounts: [{name: 'notebooks', mountPath: NOTEBOOKS_MOUNT}],
          },
        ],
        volumes: [{name: 'notebooks', persistentVolumeClaim: {claimName: NOTEBOOK_NAME}}],
      },
    },
  ]
}

const podPath = (ns: string) => `/api/v1/namespaces/${ns}/pods/${NOTEBOOK_NAME}`
const secretPath = (ns: string) => `/api/v1/namespaces/${ns}/secrets/${TOKEN_SECRET}`

function isReady(pod: V1Pod | undefined): boolean {
  return Boolean(pod?.status?.podIP && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !pod.metadata?.deletionTimestamp)
}

/** How the notebook reaches a cluster: through its head (a cluster cms made), or straight at its API (attached). */
export interface PodNotebookCluster {
  cluster: string
  log: (line: string) => void
  /** The cluster's API, for one use. */
  openApi(): Promise<{api: ClusterApi; close(): Promise<void>}>
  /** The references of the images the nodes have (cms/notebook and cms/spark among them). */
  images(): Promise<string[]>
}

/** JupyterLab as a pod of the notebook image (cms image build notebook), its notebooks on a volume claim. */
export class PodNotebookServer implements NotebookServer {
  readonly notebooks = `the volume claim ${NOTEBOOK_NAMESPACE}/${NOTEBOOK_NAME}`
  readonly namespace = NOTEBOOK_NAMESPACE
  readonly pod = NOTEBOOK_NAME

  constructor(private readonly input: PodNotebookCluster) {}

  private async withApi<T>(fn: (api: ClusterApi) => Promise<T>): Promise<T> {
    const {api, close} = await this.input.openApi()
    try {
      return await fn(api)
    } finally {
      await close()
    }
  }

  private async running(api: ClusterApi): Promise<RunningServer | undefined> {
    const pod = await api.get<V1Pod>(podPath(this.namespace))
    if (!isReady(pod)) return undefined
    const secret = await api.get<V1Secret>(secretPath(this.namespace))
    const token = secret?.data?.token ? Buffer.from(secret.data.token, 'base64').toString() : undefined
    if (!token) return undefined
    return {address: pod!.status!.podIP!, info: {pid: 0, port: JUPYTER_PORT, baseUrl: '/', token}}
  }

  find(): Promise<RunningServer | undefined> {
    return this.withApi((api) => this.running(api))
  }

  async start(): Promise<RunningServer> {
    const refs = await this.input.images()
    const tag = newestImageTag(refs, NOTEBOOK_IMAGE_REPOSITORY)
    if (!tag) throw new UsageError(`cluster ${this.input.cluster} has no notebook image: run 'cms image build notebook' then 'cms image load -n ${this.input.cluster} cms/notebook:VERSION'`)
    const sparkImage = sparkImageOf(refs, this.input.cluster)
    return this.withApi(async (api) => {
      // A pod that is there but not ready (starting, failed) is replaced: its spec does not change in place.
      if (await api.get<V1Pod>(podPath(this.namespace))) await this.removePod(api)
      await api.apply(sparkServiceAccountObjects(this.namespace))
      this.input.log(`Starting JupyterLab as pod ${this.namespace}/${NOTEBOOK_NAME} (cms/notebook:${tag}, executors of ${sparkImage})`)
      await api.apply(notebookObjects({namespace: this.namespace, image: `cms/notebook:${tag}`, sparkImage, storage: '1Gi'}, randomBytes(24).toString('hex')))
      const deadline = Date.now() + READY_MS
      for (let i = 0; i < 600 && Date.now() < deadline; i++) {
        const running = await this.running(api)
        if (running) return running
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
      const pod = await api.get<V1Pod>(podPath(this.namespace))
      const why = pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? pod?.status?.conditions?.find((c) => c.status !== 'True')?.message ?? pod?.status?.phase
      throw new Error(`the notebook pod ${this.namespace}/${NOTEBOOK_NAME} was not ready within ${READY_MS / 1000} s${why ? ` (${why})` : ''}`)
    })
  }

  stop(): Promise<'stopped' | 'not running'> {
    return this.withApi(async (api) => {
      const existed = await this.removePod(api)
      await api.remove(secretPath(this.namespace))
      return existed ? 'stopped' : 'not running'
    })
  }

  /** Deletes the pod (its kernels' executor pods are owned by it and go too) and waits, bounded, until it is gone. */
  private async removePod(api: ClusterApi): Promise<boolean> {
    if (!(await api.remove(podPath(this.namespace)))) return false
    const deadline = Date.now() + GONE_MS
    for (let i = 0; i < 300 && Date.now() < deadline; i++) {
      if (!(await api.get<V1Pod>(podPath(this.namespace)))) return true
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    throw new Error(`the notebook pod ${this.namespace}/${NOTEBOOK_NAME} did not go within ${GONE_MS / 1000} s`)
  }
}
