import {hostContext} from '../engines/host-context.js'
import {saveImageArchive, taggedReference} from '../images/image-archive.js'
import {runPerHost} from '../output/progress.js'
import type {ImageLoadReport} from '../output/results.js'
import {UsageError} from '../remote/errors.js'
import {openCluster, type RunOptions} from './context.js'
import {validateClusterName} from './names.js'
import {NotFoundError} from './not-found.js'

/**
 * Puts a local image into every host of a cluster whose engine runs containers (Kubernetes), without a registry:
 * `docker save` once (cached), one upload to the head, the other hosts fetch it there.
 */
export async function loadImage(req: {name: string; image: string}, run: RunOptions): Promise<ImageLoadReport> {
  const started = Date.now()
  validateClusterName(req.name)
  const ref = taggedReference(req.image)
  const handle = await openCluster(req.name, run)
  try {
    const loadImageOn = handle.engine.loadImage?.bind(handle.engine)
    if (!loadImageOn) throw new UsageError(`cluster ${req.name} runs ${handle.engine.name}, which runs no container images: 'cms image load' is for Kubernetes clusters`)
    const archive = await saveImageArchive(ref, run.log)
    const observed = await handle.provider.observe(req.name)
    if (observed.length === 0) throw new NotFoundError(`cluster ${JSON.stringify(req.name)} not found`)
    const hosts = [...observed.filter((h) => h.role === 'head'), ...observed.filter((h) => h.role !== 'head')]
    if (hosts[0]?.role !== 'head') throw new Error(`cluster ${req.name} has no head host`)
    const stopped = hosts.filter((h) => h.state === 'stopped')
    if (stopped.length > 0) throw new Error(`hosts ${stopped.map((h) => h.id).join(', ')} of cluster ${req.name} are not running: 'cms cluster create -n ${req.name}' brings them back`)
    const result = await loadImageOn({
      cluster: req.name,
      hosts,
      image: {ref, id: archive.id, archive: archive.path, bytes: archive.bytes},
      connect: async (host) => hostContext(await handle.pool.get(host.target), host),
      perHost: (fn) =>
        runPerHost(
          hosts.map((h) => ({key: h.id, label: `${h.id} (${h.role})`, item: h})),
          run.parallel,
          fn,
          {quiet: run.quiet, doneText: (o) => o.detail},
        ),
      log: run.log,
    })
    return {
      image: ref,
      id: archive.id,
      cluster: req.name,
      archiveBytes: archive.bytes,
      uploadedBytes: result.uploadedBytes,
      hosts: result.outcomes.map((o) => ({host: o.host, ok: o.ok, seconds: o.ms / 1000, detail: o.value?.detail, error: o.error?.message})),
      seconds: (Date.now() - started) / 1000,
    }
  } finally {
    handle.pool.closeAll()
  }
}

/** --push: the image tagged for REGISTRY and pushed there by the local Docker engine. */
export async function pushImageTo(req: {image: string; registry: string}, run: RunOptions): Promise<ImageLoadReport> {
  const started = Date.now()
  const ref = taggedReference(req.image)
  const {checkRegistry, pushImage} = await import('../images/image-archive.js')
  checkRegistry(req.registry)
  const pushed = await pushImage(ref, req.registry, run.log)
  return {image: ref, id: pushed.id, pushed: pushed.pushed, ...(pushed.digest ? {digest: pushed.digest} : {}), seconds: (Date.now() - started) / 1000}
}
