import type {HostReporter} from '../../output/progress.js'
import {shq} from '../../remote/shell.js'
import {Deferred, once} from '../coordination.js'
import type {HostOutcome, LoadImageInput, LoadImageResult} from '../engine.js'
import type {HostContext} from '../host-context.js'
import {artifactPaths, distStateScript, parseDistState, serveDistScript, stopServerScript, type ArtifactPaths} from '../shipping-scripts.js'
import {kubernetesLayout} from './layout.js'
import {checkAbsolutePath} from './names.js'

/**
 * `cms image load` on a Kubernetes cluster: a local image's `docker save` archive goes into cms's containerd on every
 * node (namespace k8s.io, where the kubelet looks), with no registry. The archive is uploaded once, to the head,
 * which keeps it with the cluster's other archives (~/.cms/dist); the other nodes stream it from the head's
 * short-lived distribution server straight into `ctr images import` (or get it uploaded when they lack curl or the
 * head lacks python3). Each imported image is labelled with its id, so a rerun finds it and does nothing, and a
 * rebuilt image under the same name is imported again.
 */

export const ID_LABEL = 'cms.image-id'

/**
 * The name containerd gives an image from a Docker archive: Docker Hub's implicit parts made explicit
 * (cms/spark:4.3.0 -> docker.io/cms/spark:4.3.0, busybox -> docker.io/library/busybox:latest).
 */
export function normalizeImageRef(ref: string): string {
  const slash = ref.lastIndexOf('/')
  const colon = ref.lastIndexOf(':')
  const [name, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest']
  const first = name.split('/')[0]!
  const hasRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')
  const full = hasRegistry ? name : name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`
  return `${full}:${tag}`
}

/** The short form of an image id that names its archive on the head and labels it in containerd. */
export function imageKey(id: string): string {
  const hex = id.replace(/^sha256:/, '')
  if (!/^[0-9a-f]{16,64}$/.test(hex)) throw new Error(`not an image id: ${JSON.stringify(id)}`)
  return hex.slice(0, 16)
}

const REF_RE = /^[a-z0-9.-]+(?::\d{1,5})?(\/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

function ctrCommand(socket: string): string {
  return `ctr --address ${shq(checkAbsolutePath("containerd's socket", socket))} -n k8s.io`
}

function checkRef(ref: string): string {
  if (!REF_RE.test(ref)) throw new Error(`not a normalized image reference: ${JSON.stringify(ref)}`)
  return ref
}

/** Prints `present` when containerd has `ref` labelled with this image id, else `absent`; fails when containerd is not running. */
export function imagePresentScript(input: {socket: string; ref: string; id: string}): string {
  const c = ctrCommand(input.socket)
  return [
    'set -eu',
    `[ -S ${shq(input.socket)} ] || { echo ${shq(`cms's containerd is not running here (no ${input.socket})`)} >&2; exit 3; }`,
    `out=$(${c} images ls ${shq(`name==${checkRef(input.ref)}`)})`,
    `if printf '%s\\n' "$out" | grep -qF ${shq(`${ID_LABEL}=${imageKey(input.id)}`)}; then echo present; else echo absent; fi`,
  ].join('\n')
}

/**
 * Imports a Docker image archive into containerd and labels it with its id. `source` is a file on the host or a
 * URL on the head (streamed through curl: the node never stores the archive). A file uploaded only for this is
 * removed afterwards (`removeFile`).
 */
export function importImageScript(input: {socket: string; ref: string; id: string; source: {file: string; removeFile?: boolean} | {url: string}}): string {
  const c = ctrCommand(input.socket)
  const ref = checkRef(input.ref)
  const key = imageKey(input.id)
  const label = `${ID_LABEL}=${key}`
  const lines = ['set -eu']
  if ('url' in input.source) {
    // No pipefail in sh: curl's failure is recorded in a file (ctr's failure fails the pipeline anyway).
    lines.push(
      'st=$(mktemp)',
      'trap \'rm -f "$st"\' EXIT',
      `{ curl -fsS --retry 3 ${shq(input.source.url)} || echo failed > "$st"; } | ${c} images import - >/dev/null`,
      `[ ! -s "$st" ] || { echo ${shq(`cannot fetch the image archive from the head (${input.source.url})`)} >&2; exit 5; }`,
    )
  } else {
    const file = checkAbsolutePath('the image archive', input.source.file)
    lines.push(`f=${shq(file)}`)
    if (input.source.removeFile) lines.push('trap \'rm -f "$f"\' EXIT')
    lines.push(`${c} images import "$f" >/dev/null`)
  }
  lines.push(
    // The archive must have brought this very image (its config blob is the image id) under this name. The id may
    // be the short key only (an archive the head kept, named by it).
    `${c} images ls -q | grep -qxF ${shq(ref)} || { echo ${shq(`the archive does not hold ${ref}`)} >&2; exit 4; }`,
    `${c} content ls -q | grep -q ${shq(`^sha256:${key}`)} || { echo ${shq(`the archive does not hold image sha256:${key}`)} >&2; exit 4; }`,
    `${c} images label ${shq(ref)} ${shq(label)} >/dev/null`,
    'echo imported',
  )
  return lines.join('\n')
}

type Delivery = 'present' | 'uploaded' | 'from-head'

/**
 * One image to every node: the head keeps the archive (uploaded once), the other nodes fetch it there. Every host
 * first tells whether it already has the image; the head uploads the archive only when some host needs it.
 */
export class ImageDelivery {
  uploadedBytes = 0
  private readonly ref: string
  private readonly checked: Array<Deferred<boolean>>
  private readonly head = new Deferred<{ctx: HostContext; paths: ArtifactPaths}>()
  private server: {pid: number; port: number} | undefined
  private readonly serve = once(async () => {
    const {ctx, paths} = await this.head.promise
    if (!ctx.facts.python3) return undefined
    const out = await ctx.session.run(serveDistScript(paths.distRoot, ctx.address, 900), {label: 'start distribution server'})
    const match = /pid=(\d+) port=(\d+)/.exec(out)
    if (!match) return undefined
    this.server = {pid: Number(match[1]), port: Number(match[2])}
    return {address: ctx.address, port: this.server.port, paths}
  })

  constructor(
    private readonly cluster: string,
    private readonly image: LoadImageInput['image'],
    hostCount: number,
  ) {
    this.ref = normalizeImageRef(image.ref)
    this.checked = Array.from({length: hostCount}, () => new Deferred<boolean>())
  }

  /** Host `index` (0 = the head) failed before it could say whether it has the image. */
  failed(index: number, error: Error): void {
    this.checked[index]?.reject(error)
    if (index === 0) this.head.reject(new Error(`the head failed: ${error.message}`))
  }

  async deliver(ctx: HostContext, index: number, report: HostReporter): Promise<Delivery> {
    const socket = kubernetesLayout(ctx.facts.home, this.cluster).containerdSocket
    const what = this.image.ref
    report.update(`checking ${what}`)
    const present = (await ctx.session.run(imagePresentScript({socket, ref: this.ref, id: this.image.id}), {label: `check ${what}`})).trim() === 'present'
    this.checked[index]!.resolve(present)
    const paths = artifactPaths(ctx.facts.home, `image-${imageKey(this.image.id)}`, '.tar')

    if (index === 0) {
      const others = await Promise.allSettled(this.checked.slice(1).map((d) => d.promise))
      const othersNeed = others.some((o) => o.status === 'fulfilled' && !o.value)
      let delivery: Delivery = 'present'
      if (othersNeed || !present) {
        const state = parseDistState(await ctx.session.run(distStateScript(paths), {label: `check ${what} archive`}))
        if (state.archiveBytes !== this.image.bytes) {
          await ctx.session.run(`mkdir -p ${shq(paths.distRoot)}`, {label: 'mkdir dist'})
          this.uploadedBytes += await ctx.session.upload(this.image.archive, paths.distArchive, {
            onProgress: (sent, total) => report.update(`uploading ${what} ${Math.floor((sent / total) * 100)}%`),
          })
          delivery = 'uploaded'
        }
      }
      this.head.resolve({ctx, paths})
      if (!present) {
        report.update(`importing ${what}`)
        await ctx.session.run(importImageScript({socket, ref: this.ref, id: this.image.id, source: {file: paths.distArchive}}), {label: `import ${what}`, timeoutMs: 900_000})
      }
      return delivery
    }

    if (present) return 'present'
    report.update('waiting for the head')
    const source = ctx.facts.curl ? await this.serve() : (await this.head.promise, undefined)
    if (source) {
      report.update(`fetching ${what} from the head and importing it`)
      const host = source.address.includes(':') ? `[${source.address}]` : source.address
      const url = `http://${host}:${source.port}/${source.paths.distArchive.slice(source.paths.distRoot.length + 1)}`
      await ctx.session.run(importImageScript({socket, ref: this.ref, id: this.image.id, source: {url}}), {label: `fetch and import ${what}`, timeoutMs: 900_000})
      return 'from-head'
    }
    await ctx.session.run(`mkdir -p ${shq(paths.distRoot)}`, {label: 'mkdir dist'})
    this.uploadedBytes += await ctx.session.upload(this.image.archive, paths.distArchive, {
      onProgress: (sent, total) => report.update(`uploading ${what} ${Math.floor((sent / total) * 100)}%`),
    })
    report.update(`importing ${what}`)
    await ctx.session.run(importImageScript({socket, ref: this.ref, id: this.image.id, source: {file: paths.distArchive, removeFile: true}}), {label: `import ${what}`, timeoutMs: 900_000})
    return 'uploaded'
  }

  /** Stops the head's distribution server, if one was started. */
  async finish(): Promise<void> {
    if (!this.server) return
    const head = await this.head.promise.catch(() => undefined)
    await head?.ctx.session.exec(stopServerScript(this.server.pid)).catch(() => undefined)
  }
}

const DETAIL: Record<Delivery, string> = {
  present: 'already there',
  uploaded: 'uploaded and imported',
  'from-head': 'fetched from the head and imported',
}

/** Engine.loadImage for Kubernetes: the image into cms's containerd on every node of the cluster. */
export async function loadImageOnKubernetes(input: LoadImageInput): Promise<LoadImageResult> {
  const delivery = new ImageDelivery(input.cluster, input.image, input.hosts.length)
  try {
    const outcomes = await input.perHost(async (host, report): Promise<HostOutcome> => {
      const index = input.hosts.indexOf(host)
      try {
        report.update('connecting')
        const ctx = await input.connect(host)
        const how = await delivery.deliver(ctx, index, report)
        return {address: ctx.address, detail: `${input.image.ref}: ${DETAIL[how]}`}
      } catch (error) {
        delivery.failed(index, error as Error)
        throw error
      }
    })
    return {outcomes, uploadedBytes: delivery.uploadedBytes}
  } finally {
    await delivery.finish()
  }
}
