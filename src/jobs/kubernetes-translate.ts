/**
 * Pure translation of a JobSpec into Kubernetes objects that run it as Spark on Kubernetes: a Job whose one pod runs
 * `spark-submit --master k8s://... --deploy-mode client`, so the driver runs in that pod and asks the API for
 * executor pods (owned by the driver pod: they go when it goes). With it: the service account and the least RBAC
 * such a driver needs (shared by the namespace's cms jobs), a PriorityClass for a priority above 0, and a ConfigMap
 * with the spec's local files (the loader read them: see readSpecFiles). No I/O here.
 */
import {posix} from 'node:path'
import {UsageError} from '../remote/errors.js'
import {memoryMb} from './nomad-translate.js'
import {executorEnvProperties, S3_ENV_KEYS, s3Environment, s3SparkProperties, type S3Access} from './s3.js'
import {sparkProperties, sparkSubmitArgv} from './spark-translate.js'
import {appKind, isUrl, type JobSpec} from './spec.js'
import {executorVolumeProperties, podVolumes} from './volumes.js'

export const DEFAULT_API_SERVER = 'https://kubernetes.default.svc:443'
/** The driver's service account, Role and RoleBinding in each namespace cms runs Spark jobs in. */
export const SPARK_SERVICE_ACCOUNT = 'cms-spark'
/** Where the ConfigMap with the job's local files is mounted in the driver's container. */
export const JOB_FILES_DIR = '/opt/cms/job'
export const SPARK_HOME_IN_IMAGE = '/opt/spark'
/** A ConfigMap holds at most 1 MiB of data. */
export const MAX_LOCAL_FILES_BYTES = 1 << 20
export const MANAGED_BY = {'app.kubernetes.io/managed-by': 'cms'} as const
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
/** Spark's own minimum memory overhead of a driver or executor pod, and its share of the heap. */
const MIN_OVERHEAD_MB = 384
const OVERHEAD_FACTOR = 0.1

export interface KubernetesSpecInput {
  /** The cms job id (kept in an annotation); the objects are named after kubernetesJobName(jobId). */
  jobId: string
  namespace: string
  /** The Spark image (cms image build spark), already on every node (imagePullPolicy Never). */
  image: string
  /** The API server as pods reach it (default: the kubernetes Service's name, which needs cluster DNS). */
  apiServer?: string
  /**
   * Let the driver watch its executor pods (Spark's default). Off by default: on a cluster whose API server has the
   * WatchList feature gate on (made before cms turned it off, see apiServerArgs) Spark 4's watch becomes a watch-list
   * request, which Debian's etcd 3.4 cannot serve (the API answers 500 "RequestWatchProgress is disabled" and the
   * watcher retries every second); the driver then polls its pods every 5 s instead, which works on every cluster.
   */
  executorWatcher?: boolean
  /** The content of every local file the spec names (app, jars, files, pyFiles), by the path in the spec. */
  localFiles?: Readonly<Record<string, Buffer | string>>
  /**
   * S3 for s3a:// paths. The credentials go into a Secret of their own (NAME-s3) and reach the driver and the
   * executors as environment variables through secretKeyRef, read by the AWS SDK's environment provider: never into
   * the Job, the pod spec or a Spark property (anyone who may read Jobs or pods would see them there).
   */
  s3?: S3Access
  /** `spark.hadoop.fs.defaultFS` (the cluster's HDFS), unless the spec's conf names one. */
  defaultFs?: string
}

/** A Kubernetes object (apiVersion, kind, metadata, ...), ready for server-side apply. */
export type KubernetesObject = Record<string, unknown> & {apiVersion: string; kind: string; metadata: {name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>}}

const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/**
 * A name for the job's objects from its id: a DNS label of at most 52 characters (Spark names executor pods
 * NAME-exec-N, which must stay a 63-character label); a shortened id keeps a hash of the whole id, so ids stay apart.
 */
export function kubernetesJobName(jobId: string): string {
  const label = jobId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-{2,}/g, '-').replace(/^-+|-+$/g, '') || 'job'
  if (label === jobId && label.length <= 52) return label
  return `${label.slice(0, 43).replace(/-+$/, '')}-${fnv32(jobId)}`
}

/** A short stable hash (8 hex digits) for names. */
function fnv32(s: string): string {
  let h = 0x811c9dc5
  for (const byte of Buffer.from(s)) h = Math.imul(h ^ byte, 0x01000193) >>> 0
  return h.toString(16).padStart(8, '0')
}

/** The name of the PriorityClass for a priority (1-1000). */
export function priorityClassName(priority: number): string {
  return `cms-priority-${priority}`
}

/** Spark's memory for a pod: the heap plus max(384 MiB, 10 %) overhead, in MiB. */
export function podMemoryMb(heap: string): number {
  const mb = memoryMb(heap)
  return mb + Math.max(MIN_OVERHEAD_MB, Math.ceil(mb * OVERHEAD_FACTOR))
}

interface LocalFile {
  /** ConfigMap key. */
  key: string
  /** Where the driver sees it, relative to JOB_FILES_DIR. */
  relPath: string
  source: string
}

/** Every local file of the spec, with its ConfigMap key and place in the driver (folders keep equal names apart). */
function localFilesOf(spec: JobSpec): LocalFile[] {
  const out: LocalFile[] = []
  const add = (kind: string, source: string, index?: number) => {
    if (isUrl(source)) return
    const base = posix.basename(source.replace(/\\/g, '/'))
    out.push({key: index === undefined ? kind : `${kind}-${index}`, relPath: index === undefined ? `${kind}/${base}` : `${kind}/${index}/${base}`, source})
  }
  add('app', spec.app)
  spec.jars.forEach((p, i) => add('jar', p, i))
  spec.files.forEach((p, i) => add('file', p, i))
  spec.pyFiles.forEach((p, i) => add('pyfile', p, i))
  return out
}

/** The local paths a spec needs read (for readSpecFiles). */
export function localPathsOf(spec: JobSpec): string[] {
  return [...new Set(localFilesOf(spec).map((f) => f.source))]
}

/** The arguments whose `$(VAR)` Kubernetes must expand (from the downward API). */
const OWN_REFERENCES = new Set(['spark.driver.host=$(CMS_POD_IP)', 'spark.driver.bindAddress=$(CMS_POD_IP)', 'spark.kubernetes.driver.pod.name=$(CMS_POD_NAME)'])

/** `$(` in a user's argument would be expanded by Kubernetes from the container's environment: `$$(` keeps it. */
function escapeExpansion(arg: string): string {
  return arg.replace(/\$\(/g, '$$$$(')
}

function isUtf8Text(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', {fatal: true}).decode(b)
    return !b.includes(0)
  } catch {
    return false
  }
}

/** The objects that run `spec` on Kubernetes, in the order to apply them (cluster-scoped first, the Job last). */
export function specToManifests(spec: JobSpec, input: KubernetesSpecInput): KubernetesObject[] {
  const name = kubernetesJobName(input.jobId)
  const {namespace, image} = input
  checkKubernetesConf(spec, namespace)
  // The driver's pod runs the image (and pull policy) the spec's conf names for the driver, like Spark would.
  const driverImage = spec.conf['spark.kubernetes.driver.container.image'] ?? spec.conf['spark.kubernetes.container.image'] ?? image
  const driverPullPolicy = spec.conf['spark.kubernetes.container.image.pullPolicy'] ?? 'Never'
  if (!DNS_LABEL_RE.test(namespace) || namespace.length > 63) throw new UsageError(`invalid namespace ${JSON.stringify(namespace)}: expected a DNS label (lower-case letters, digits, '-')`)
  const labels = {...MANAGED_BY, 'app.kubernetes.io/name': 'spark', 'cms.job': name}
  const objects: KubernetesObject[] = []

  if (spec.priority > 0) {
    objects.push({
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: {name: priorityClassName(spec.priority), labels: {...MANAGED_BY}},
      value: spec.priority,
      globalDefault: false,
      description: `cms job spec priority ${spec.priority}`,
    })
  }

  const meta = (objName: string, extra: Record<string, string> = {}) => ({name: objName, namespace, labels: {...MANAGED_BY, ...extra}})
  objects.push(...sparkServiceAccountObjects(namespace))

  // Local files (and the executor pod template of a prioritized job) travel in a ConfigMap mounted in the driver;
  // the driver serves the files to the executors (client mode).
  const files = localFilesOf(spec)
  const inPod = (source: string) => {
    const f = files.find((x) => x.source === source)
    return f ? `${JOB_FILES_DIR}/${f.relPath}` : source
  }
  const data: Record<string, string> = {}
  const binaryData: Record<string, string> = {}
  const items: Array<{key: string; path: string}> = []
  let total = 0
  for (const f of files) {
    const content = input.localFiles?.[f.source]
    if (content === undefined) throw new Error(`the content of ${f.source} was not read`)
    const buf = Buffer.isBuffer(content) ? content : Buffer.from(content)
    total += buf.length
    if (isUtf8Text(buf)) data[f.key] = buf.toString('utf8')
    else binaryData[f.key] = buf.toString('base64')
    items.push({key: f.key, path: f.relPath})
  }
  if (total > MAX_LOCAL_FILES_BYTES) throw localFilesTooLarge(spec, total)
  if (spec.priority > 0) {
    data['executor-pod'] = executorPodTemplate(spec.priority)
    items.push({key: 'executor-pod', path: 'executor-pod.yaml'})
  }
  const filesConfigMap = `${name}-files`
  if (items.length > 0) {
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(filesConfigMap, {'cms.job': name}),
      ...(Object.keys(data).length > 0 ? {data} : {}),
      ...(Object.keys(binaryData).length > 0 ? {binaryData} : {}),
    })
  }

  const props = sparkProperties(spec, {
    masterUrl: `k8s://${input.apiServer ?? DEFAULT_API_SERVER}`,
    appResource: inPod(spec.app),
    remoteJars: spec.jars.map(inPod),
    remoteFiles: spec.files.map(inPod),
    remotePyFiles: spec.pyFiles.map(inPod),
  })
  const k8s: Record<string, string> = {
    'spark.submit.deployMode': 'client',
    'spark.driver.host': '$(CMS_POD_IP)',
    // Spark 4 advertises the bind address to executors (spark.kubernetes.executor.useDriverPodIP): the pod IP too.
    'spark.driver.bindAddress': '$(CMS_POD_IP)',
    'spark.kubernetes.driver.pod.name': '$(CMS_POD_NAME)',
    'spark.kubernetes.namespace': namespace,
    'spark.kubernetes.container.image': image,
    'spark.kubernetes.container.image.pullPolicy': 'Never',
    'spark.kubernetes.authenticate.driver.serviceAccountName': SPARK_SERVICE_ACCOUNT,
    // Client mode: the driver talks to the API with its pod's service account token.
    'spark.kubernetes.authenticate.caCertFile': `${SERVICE_ACCOUNT_DIR}/ca.crt`,
    'spark.kubernetes.authenticate.oauthTokenFile': `${SERVICE_ACCOUNT_DIR}/token`,
    'spark.kubernetes.executor.podNamePrefix': name,
    'spark.kubernetes.executor.label.app.kubernetes.io/managed-by': 'cms',
    'spark.kubernetes.executor.label.cms.job': name,
    'spark.ui.enabled': 'false',
  }
  if (!input.executorWatcher) {
    k8s['spark.kubernetes.executor.enableApiWatcher'] = 'false'
    k8s['spark.kubernetes.executor.apiPollingInterval'] = '5s'
  }
  if (input.defaultFs) k8s['spark.hadoop.fs.defaultFS'] = input.defaultFs
  if (spec.priority > 0) k8s['spark.kubernetes.executor.podTemplateFile'] = `${JOB_FILES_DIR}/executor-pod.yaml`
  Object.assign(k8s, executorVolumeProperties(spec.volumes))
  const s3Secret = `${name}-s3`
  const s3Env = input.s3 ? s3Environment(input.s3, {kind: 'env'}) : {}
  const s3Keys = input.s3 ? s3SecretKeys(input.s3) : []
  if (input.s3) {
    const data: Record<string, string> = {}
    for (const [key, value] of s3Keys) data[key] = Buffer.from(value).toString('base64')
    objects.push({apiVersion: 'v1', kind: 'Secret', metadata: meta(s3Secret, {'cms.job': name}), type: 'Opaque', data})
    Object.assign(k8s, s3SparkProperties(input.s3, {kind: 'env'}), executorEnvProperties(s3Env))
    // Spark adds these to every executor pod as env valueFrom.secretKeyRef (NAME:KEY names the Secret and its key).
    for (const [key] of s3Keys) k8s[`spark.kubernetes.executor.secretKeyRef.${key}`] = `${s3Secret}:${key}`
  }
  // The spec's conf wins over everything cms derives, as on the other engines.
  const merged = {...props, ...k8s, ...spec.conf}
  const argv = sparkSubmitArgv(spec, merged, {appPath: inPod(spec.app)}).map((a) => (OWN_REFERENCES.has(a) ? a : escapeExpansion(a)))

  const driverHeapMb = memoryMb(spec.driver.memory ?? '1g')
  const driverCores = spec.driver.cores ?? 1
  const own = podVolumes(spec.volumes)
  const volumes = [...(items.length > 0 ? [{name: 'cms-job', configMap: {name: filesConfigMap, items}}] : []), ...own.volumes]
  const volumeMounts = [...(items.length > 0 ? [{name: 'cms-job', mountPath: JOB_FILES_DIR, readOnly: true}] : []), ...own.volumeMounts]

  objects.push({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {name, namespace, labels: {...labels}, annotations: {'cms.job-id': input.jobId, 'cms.spec': spec.name, 'cms.kind': appKind(spec)}},
    spec: {
      backoffLimit: spec.retries,
      template: {
        metadata: {labels: {...labels, 'spark-role': 'cms-driver'}},
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: SPARK_SERVICE_ACCOUNT,
          ...(spec.priority > 0 ? {priorityClassName: priorityClassName(spec.priority)} : {}),
          securityContext: {runAsUser: 185, runAsGroup: 185, runAsNonRoot: true},
          containers: [
            {
              name: 'spark-driver',
              image: driverImage,
              imagePullPolicy: driverPullPolicy,
              args: [`${SPARK_HOME_IN_IMAGE}/bin/spark-submit`, ...argv],
              env: [
                {name: 'CMS_POD_IP', valueFrom: {fieldRef: {fieldPath: 'status.podIP'}}},
                {name: 'CMS_POD_NAME', valueFrom: {fieldRef: {fieldPath: 'metadata.name'}}},
                ...Object.entries({...spec.env, ...s3Env}).map(([k, v]) => ({name: k, value: v})),
                ...s3Keys.map(([key]) => ({name: key, valueFrom: {secretKeyRef: {name: s3Secret, key}}})),
              ],
              resources: {
                requests: {cpu: String(driverCores), memory: `${podMemoryMb(`${driverHeapMb}m`)}Mi`},
                limits: {memory: `${podMemoryMb(`${driverHeapMb}m`)}Mi`},
              },
              securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: ['ALL']}},
              ...(volumeMounts.length > 0 ? {volumeMounts} : {}),
            },
          ],
          ...(volumes.length > 0 ? {volumes} : {}),
        },
      },
    },
  })
  return objects
}

/** The Secret's keys and values: the AWS SDK's environment variable names (AWS_ACCESS_KEY_ID, ...). */
function s3SecretKeys(s3: S3Access): Array<[string, string]> {
  const c = s3.credentials
  const keys: Array<[string, string]> = [
    [S3_ENV_KEYS.accessKeyId, c.accessKeyId],
    [S3_ENV_KEYS.secretAccessKey, c.secretAccessKey],
  ]
  if (c.sessionToken) keys.push([S3_ENV_KEYS.sessionToken, c.sessionToken])
  return keys
}

/**
 * Properties whose value the driver's pod itself decides: set in `conf`, they would point Spark at another pod, address
 * or namespace than the one it runs in (the service account and its Role live in the job's namespace).
 */
const KUBERNETES_RESERVED_CONF: Readonly<Record<string, string>> = {
  'spark.driver.host': "set by cms to the driver pod's IP",
  'spark.driver.bindAddress': "set by cms to the driver pod's IP",
  'spark.kubernetes.driver.pod.name': "set by cms to the driver pod's name",
  'spark.kubernetes.authenticate.driver.serviceAccountName': `set by cms (${SPARK_SERVICE_ACCOUNT}, with the Role the driver needs)`,
}

function checkKubernetesConf(spec: JobSpec, namespace: string): void {
  const problems: string[] = []
  for (const [key, why] of Object.entries(KUBERNETES_RESERVED_CONF)) if (key in spec.conf) problems.push(`conf.${key}: ${why}`)
  const ns = spec.conf['spark.kubernetes.namespace']
  if (ns !== undefined && ns !== namespace) problems.push(`conf.spark.kubernetes.namespace: the job runs in namespace ${namespace}, not ${ns}`)
  if (problems.length > 0) throw new UsageError(`job ${spec.name}: ${problems.join('; ')}`)
}

/** Executor pods Spark creates from this template get the job's PriorityClass. */
function executorPodTemplate(priority: number): string {
  return ['apiVersion: v1', 'kind: Pod', 'spec:', `  priorityClassName: ${priorityClassName(priority)}`, ''].join('\n')
}

function localFilesTooLarge(spec: JobSpec, total: number): UsageError {
  return new UsageError(
    `job ${spec.name}: its local files (app, jars, files, pyFiles) are ${(total / 2 ** 20).toFixed(2)} MiB; on Kubernetes they travel in a ConfigMap, which holds at most 1 MiB: serve the larger ones over http(s) and name their URLs`,
  )
}

/**
 * Reads the spec's local files for specToManifests; refuses (UsageError, before reading anything) when they are
 * larger than a ConfigMap holds. `stat`/`read` are injectable for tests.
 */
export async function readSpecFiles(
  spec: JobSpec,
  io?: {size: (path: string) => Promise<number>; read: (path: string) => Promise<Buffer>},
): Promise<Record<string, Buffer>> {
  const fs = io ?? (await defaultFileAccess())
  const paths = localPathsOf(spec)
  let total = 0
  for (const p of paths) total += await fs.size(p)
  if (total > MAX_LOCAL_FILES_BYTES) throw localFilesTooLarge(spec, total)
  const out: Record<string, Buffer> = {}
  for (const p of paths) out[p] = await fs.read(p)
  return out
}

async function defaultFileAccess(): Promise<{size: (path: string) => Promise<number>; read: (path: string) => Promise<Buffer>}> {
  const {readFile, stat} = await import('node:fs/promises')
  return {size: async (p) => (await stat(p)).size, read: (p) => readFile(p)}
}

/** readSpecFiles, then specToManifests: what a Kubernetes JobService's `translateSpec` does for one spec. */
export async function translateSpecForKubernetes(spec: JobSpec, input: Omit<KubernetesSpecInput, 'localFiles'>): Promise<KubernetesObject[]> {
  return specToManifests(spec, {...input, localFiles: await readSpecFiles(spec)})
}

export interface KubernetesTranslatorOptions {
  /** The Spark image on the cluster's nodes (cms image build spark + cms image load). */
  image: string
  /** Default: `default`. */
  namespace?: string
  apiServer?: string
  executorWatcher?: boolean
  /** The cluster's HDFS (hdfs://NAMENODE:8020), when it runs one. */
  defaultFs?: string
  /** A fresh job id for a spec (default: newJobId, NAME-YYYYMMDD-HHMMSS-xxxx). */
  newId?: (name: string) => string
}

/**
 * The `translateSpec` a Kubernetes JobService takes: each submitted spec gets a fresh job id, its local files read
 * (at most 1 MiB), and becomes the objects of specToManifests.
 */
export function kubernetesSpecTranslator(opts: KubernetesTranslatorOptions): (job: {spec: JobSpec; s3?: S3Access}) => Promise<KubernetesObject[]> {
  return async ({spec, s3}) => {
    const newId = opts.newId ?? (await import('./ids.js')).newJobId
    return translateSpecForKubernetes(spec, {
      jobId: newId(spec.name),
      namespace: opts.namespace ?? 'default',
      image: opts.image,
      apiServer: opts.apiServer,
      executorWatcher: opts.executorWatcher,
      defaultFs: opts.defaultFs,
      s3,
    })
  }
}

/**
 * The Spark service account of a namespace, with the Role a driver needs there and nothing more: create, watch and
 * delete its executor pods (and their config map and any on-demand volume claims), services for drivers that ask for
 * one, the NetworkPolicy Spark 4 makes for a driver. A stock spark-submit from outside (cluster deploy mode, through `cms cluster tunnel`) needs the same to make
 * its driver pod, so it authenticates as this account too.
 */
export function sparkServiceAccountObjects(namespace: string): KubernetesObject[] {
  const metadata = () => ({name: SPARK_SERVICE_ACCOUNT, namespace, labels: {...MANAGED_BY}})
  return [
    {apiVersion: 'v1', kind: 'ServiceAccount', metadata: metadata()},
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: metadata(),
      rules: [
        {
          apiGroups: [''],
          resources: ['pods', 'services', 'configmaps', 'persistentvolumeclaims'],
          verbs: ['create', 'get', 'list', 'watch', 'delete', 'deletecollection', 'patch'],
        },
        // Spark 4's submission client puts a NetworkPolicy in front of each driver it makes (cluster deploy mode).
        {apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['create', 'get', 'list', 'watch', 'delete', 'patch']},
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: metadata(),
      subjects: [{kind: 'ServiceAccount', name: SPARK_SERVICE_ACCOUNT, namespace}],
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: SPARK_SERVICE_ACCOUNT},
    },
  ]
}
