import type {S3Access} from '../../jobs/s3.js'
import type {JobSpec} from '../../jobs/spec.js'
import {UsageError} from '../../remote/errors.js'
import {shq} from '../../remote/shell.js'
import type {JobService, JobsInput} from '../engine.js'
import {openCertificateAccess} from './api-access.js'
import {kubernetesDefaultFs} from './hdfs-manifests.js'
import type {KubeAccess} from './api.js'
import {ClusterApi} from './cluster-api.js'
import {KubernetesJobService} from './jobs.js'
import {kubernetesLayout} from './layout.js'

const SPARK_IMAGE_CONF = 'spark.kubernetes.container.image'
const SPARK_IMAGE_REPOSITORY = 'docker.io/cms/spark'

/**
 * The cluster's Kubernetes jobs: manifests and portable specs through the API, over an SSH forward to the head.
 * A spec runs as Spark on Kubernetes in the image its conf names, else the newest cms/spark image on the nodes; on a
 * cluster with HDFS (--hdfs), paths without a scheme are on that HDFS.
 */
export async function openKubernetesJobs(input: JobsInput): Promise<JobService> {
  const {access, close} = await openCertificateAccess({session: input.head.session, address: input.head.address, home: input.head.facts.home}, input.cluster)
  let sparkImage: Promise<string> | undefined
  const translateSpec = async (job: {spec: JobSpec; s3?: S3Access}) => {
    const {kubernetesSpecTranslator} = await import('../../jobs/kubernetes-translate.js')
    const named = job.spec.conf?.[SPARK_IMAGE_CONF]
    const image = named === undefined ? await (sparkImage ??= newestSparkImageOnHead(input)) : String(named)
    const defaultFs = input.settings.hdfs === 'true' ? kubernetesDefaultFs() : undefined
    return kubernetesSpecTranslator({image, defaultFs})(job)
  }
  return new KubernetesJobService(access, input, {onClose: close, translateSpec})
}

/** The newest cms/spark image in the head node's containerd (`cms image load` puts it on every node). */
export async function newestSparkImageOnHead(input: Pick<JobsInput, 'head' | 'cluster'>): Promise<string> {
  return sparkImageOf(await imagesOnHead(input), input.cluster)
}

/** The references of every image in the head node's containerd. */
export async function imagesOnHead(input: Pick<JobsInput, 'head' | 'cluster'>): Promise<string[]> {
  const socket = kubernetesLayout(input.head.facts.home, input.cluster).containerdSocket
  const out = await input.head.session.run(`ctr --address ${shq(socket)} -n k8s.io images ls -q 2>/dev/null || true`, {label: 'list images'})
  return out.split('\n')
}

/** The newest cms/spark image any node has, as the Kubernetes API reports the nodes' images (an attached cluster). */
export async function newestSparkImageOnNodes(access: KubeAccess, cluster: string): Promise<string> {
  return sparkImageOf(await imagesOnNodes(access), cluster)
}

/** The references of every image any node has, as the Kubernetes API reports the nodes (an attached cluster). */
export async function imagesOnNodes(access: KubeAccess): Promise<string[]> {
  const api = new ClusterApi(access)
  try {
    return (await api.nodes()).flatMap((n) => n.status?.images?.flatMap((i) => i.names ?? []) ?? [])
  } finally {
    api.close()
  }
}

/** The newest tag (numeric order: 4.10 after 4.9) of `repository` (docker.io/cms/spark) among image references. */
export function newestImageTag(refs: string[], repository: string): string | undefined {
  return refs
    .map((l) => l.trim())
    .filter((ref) => ref.startsWith(`${repository}:`))
    .map((ref) => ref.slice(repository.length + 1))
    .sort((a, b) => a.localeCompare(b, 'en', {numeric: true}))
    .at(-1)
}

/** The newest cms/spark image among image references; none: a usage error naming the commands that load one. */
export function sparkImageOf(refs: string[], cluster: string): string {
  const tag = newestImageTag(refs, SPARK_IMAGE_REPOSITORY)
  if (!tag) {
    throw new UsageError(
      `cluster ${cluster} has no Spark image: run 'cms image build spark' then 'cms image load -n ${cluster} cms/spark:VERSION' (or name an image in the spec's conf ${SPARK_IMAGE_CONF})`,
    )
  }
  return `cms/spark:${tag}`
}
