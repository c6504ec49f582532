import type {HostReporter} from '../../output/progress.js'
import {shq} from '../../remote/shell.js'
import {Deferred, once} from '../coordination.js'
import type {HostContext} from '../host-context.js'
import {artifactPaths, serveDistScript, stopServerScript} from '../shipping-scripts.js'
import {ID_LABEL, importImageScript} from './image-load.js'
import {kubernetesLayout} from './layout.js'
import {checkAbsolutePath} from './names.js'

/**
 * The images cms loaded on a cluster (`cms image load`, the Hadoop image), brought to every node as it converges,
 * before its kubelet starts: a node that joins later never runs a pod whose image (imagePullPolicy Never) it lacks.
 * The head is the source: its containerd lists every image cms labelled with its id, and it keeps each one's archive
 * with the cluster's other archives (an archive it lacks is exported from its containerd). Nodes that lack an image
 * stream it from the head's short-lived distribution server straight into `ctr images import`.
 */

export interface LoadedImage {
  /** containerd's name for it (docker.io/library/busybox:latest). */
  ref: string
  /** The short image id of its cms.image-id label. */
  key: string
}

export function listLoadedImagesScript(socket: string): string {
  return `ctr --address ${shq(checkAbsolutePath("containerd's socket", socket))} -n k8s.io images ls`
}

/** The images of `ctr images ls` output that carry cms's id label (columns: REF TYPE DIGEST SIZE PLATFORMS LABELS). */
export function parseLoadedImages(output: string): LoadedImage[] {
  const found: LoadedImage[] = []
  for (const line of output.split('\n').slice(1)) {
    const ref = line.split(/\s+/, 1)[0]
    const key = new RegExp(`(?:^|[\\s,])${ID_LABEL.replace('.', '\\.')}=([0-9a-f]{16})(?:,|\\s|$)`).exec(line)?.[1]
    if (ref && key) found.push({ref, key})
  }
  return found
}

/** What a node lacks of the head's images: a name it does not have, or has as another image. */
export function missingImages(head: readonly LoadedImage[], node: readonly LoadedImage[]): LoadedImage[] {
  const have = new Set(node.map((i) => `${i.ref} ${i.key}`))
  return head.filter((i) => !have.has(`${i.ref} ${i.key}`))
}

/** On the head: the archive of each image, exported from containerd when the head does not keep it. */
export function headArchivesScript(input: {socket: string; home: string; images: readonly LoadedImage[]}): string {
  const ctr = `ctr --address ${shq(checkAbsolutePath("containerd's socket", input.socket))} -n k8s.io`
  const lines = ['set -eu']
  for (const image of input.images) {
    if (!/^[0-9a-f]{16}$/.test(image.key)) throw new Error(`not an image key: ${JSON.stringify(image.key)}`)
    const paths = artifactPaths(input.home, `image-${image.key}`, '.tar')
    const archive = shq(paths.distArchive)
    lines.push(
      `if [ ! -s ${archive} ]; then`,
      `  mkdir -p ${shq(paths.distRoot)}`,
      `  ${ctr} images export ${shq(`${paths.distArchive}.part`)} ${shq(image.ref)}`,
      `  mv ${shq(`${paths.distArchive}.part`)} ${archive}`,
      'fi',
    )
  }
  return lines.join('\n')
}

/** One per converge: the head lists its images once, and serves their archives once if some node lacks one. */
export class LoadedImageDelivery {
  private readonly head = new Deferred<{ctx: HostContext; images: LoadedImage[]}>()
  private server: {pid: number; port: number} | undefined
  private readonly serve = once(async () => {
    const {ctx, images} = await this.head.promise
    const socket = kubernetesLayout(ctx.facts.home, this.cluster).containerdSocket
    await ctx.session.run(headArchivesScript({socket, home: ctx.facts.home, images}), {label: 'keep the loaded images\' archives', timeoutMs: 900_000})
    if (!ctx.facts.python3) throw new Error(`the head ${ctx.address} has no python3 to serve the loaded images to the other nodes`)
    const distRoot = artifactPaths(ctx.facts.home, 'x', '.tar').distRoot
    const out = await ctx.session.run(serveDistScript(distRoot, ctx.address, 900), {label: 'start distribution server'})
    const match = /pid=(\d+) port=(\d+)/.exec(out)
    if (!match) throw new Error('the distribution server on the head printed no port')
    this.server = {pid: Number(match[1]), port: Number(match[2])}
    const host = ctx.address.includes(':') ? `[${ctx.address}]` : ctx.address
    return {base: `http://${host}:${this.server.port}`}
  })

  constructor(private readonly cluster: string) {}

  headFailed(error: Error): void {
    this.head.reject(error)
  }

  /** The head lists its images; another node imports those it lacks. Returns how many it imported. */
  async deliver(ctx: HostContext, isHead: boolean, report: HostReporter): Promise<number> {
    const socket = kubernetesLayout(ctx.facts.home, this.cluster).containerdSocket
    const listed = parseLoadedImages(await ctx.session.run(listLoadedImagesScript(socket), {label: 'list loaded images'}))
    if (isHead) {
      this.head.resolve({ctx, images: listed})
      return 0
    }
    report.update('waiting for the head\'s image list')
    const missing = missingImages((await this.head.promise).images, listed)
    if (missing.length === 0) return 0
    if (!ctx.facts.curl) throw new Error(`${ctx.address} has no curl to fetch the cluster's images from the head`)
    const {base} = await this.serve()
    for (const image of missing) {
      report.update(`fetching ${image.ref} from the head and importing it`)
      const url = `${base}/image-${image.key}.tar`
      await ctx.session.run(importImageScript({socket, ref: image.ref, id: image.key, source: {url}}), {label: `fetch and import ${image.ref}`, timeoutMs: 900_000})
    }
    return missing.length
  }

  async finish(): Promise<void> {
    if (!this.server) return
    const head = await this.head.promise.catch(() => undefined)
    await head?.ctx.session.exec(stopServerScript(this.server.pid)).catch(() => undefined)
  }
}
