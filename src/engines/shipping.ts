import {createReadStream} from 'node:fs'
import {Transform} from 'node:stream'
import type {HostReporter} from '../output/progress.js'
import {shq} from '../remote/shell.js'
import type {Artifact} from './artifact.js'
import {Deferred, once} from './coordination.js'
import type {HostContext} from './host-context.js'
import * as s from './shipping-scripts.js'

export type Delivery = 'present' | 'uploaded' | 'from-head'

/**
 * Puts a cluster's archives on its hosts with one upload from the client: the head keeps each archive, the other
 * hosts fetch it from a short-lived HTTP server on the head's private address (or get it uploaded when they lack
 * curl or the head lacks python3). Shared by every engine. A host may fetch an archive as soon as the head holds it
 * (before the head has unpacked it or received the next one). An archive only the head needs is unpacked as it
 * arrives, and not kept.
 */
export class Shipment {
  uploadedBytes = 0
  private readonly head = new Deferred<HostContext>()
  /** Per archive: settled once the head holds it (or failed before it did). */
  private readonly onHead: Map<string, Deferred<HostContext>>
  private server: {pid: number; port: number} | undefined
  private readonly serve = once(async () => {
    const ctx = await this.head.promise
    if (!ctx.facts.python3) return undefined
    const root = s.artifactPaths(ctx.facts.home, 'x', '.tgz').distRoot
    const out = await ctx.session.run(s.serveDistScript(root, ctx.address, 900), {label: 'start distribution server'})
    const match = /pid=(\d+) port=(\d+)/.exec(out)
    if (!match) return undefined
    this.server = {pid: Number(match[1]), port: Number(match[2])}
    return {address: ctx.address, port: this.server.port}
  })

  constructor(
    readonly artifacts: Artifact[],
    /** More than one host: the head must keep the archives for the others. */
    private readonly shared: boolean,
  ) {
    this.onHead = new Map(artifacts.map((a) => [a.id, new Deferred<HostContext>()]))
  }

  /**
   * One more archive, known only once the head was asked (the Hadoop class data its JVM can use): the head takes it
   * in before any host delivers it.
   */
  include(a: Artifact): void {
    if (this.onHead.has(a.id)) return
    this.artifacts.push(a)
    this.onHead.set(a.id, new Deferred<HostContext>())
  }

  get totalBytes(): number {
    return this.artifacts.reduce((sum, a) => sum + a.bytes, 0)
  }

  /** The head failed before it had the archives: hosts waiting to fetch from it fail with this reason. */
  headFailed(reason: Error): void {
    this.head.reject(reason)
    for (const held of this.onHead.values()) held.reject(reason)
  }

  /**
   * Makes these archives (default: all, one after the other) present and unpacked on the host; the head first keeps
   * each for the others. An engine may deliver its archives in separate calls, e.g. one it needs before its daemons
   * start and one it needs only for jobs, at the same time.
   */
  async deliver(ctx: HostContext, isHead: boolean, report: HostReporter, artifacts: readonly Artifact[] = this.artifacts): Promise<Delivery[]> {
    const deliveries: Delivery[] = []
    try {
      for (const artifact of artifacts) deliveries.push(await this.deliverOne(ctx, isHead, artifact, report))
    } catch (error) {
      if (isHead) for (const a of artifacts) this.held(a).reject(new Error(`the head could not keep the ${a.what} archive: ${(error as Error).message}`))
      throw error
    }
    return deliveries
  }

  private held(a: Artifact): Deferred<HostContext> {
    const held = this.onHead.get(a.id)
    if (!held) throw new Error(`${a.what} (${a.id}) is not one of this shipment's archives`)
    return held
  }

  private async deliverOne(ctx: HostContext, isHead: boolean, a: Artifact, report: HostReporter): Promise<Delivery> {
    const paths = s.artifactPaths(ctx.facts.home, a.id, a.archiveExt)
    report.update(`checking ${a.what}`)
    const state = s.parseDistState(await ctx.session.run(s.distStateScript(paths), {label: `check ${a.what}`}))
    let delivery: Delivery = 'present'
    if (isHead && a.headOnly && !state.unpacked) {
      // No other host fetches it: the upload streams into the unpack (they overlap), and no archive stays behind.
      await this.streamInto(ctx, a, paths, report)
      this.head.resolve(ctx)
      this.held(a).resolve(ctx)
      return 'uploaded'
    }
    if (isHead) {
      // The head keeps an archive for the others only when they fetch it: never one only the head needs (on a rerun
      // or `add` it is unpacked there already, and its archive was never kept).
      if (state.archiveBytes !== a.bytes && (!state.unpacked || (this.shared && !a.headOnly))) {
        await this.upload(ctx, a, paths, report)
        delivery = 'uploaded'
      }
      this.head.resolve(ctx)
      this.held(a).resolve(ctx)
    } else if (!state.unpacked) {
      report.update(`waiting for the head to hold ${a.what}`)
      const source = ctx.facts.curl ? await this.held(a).promise.then(() => this.serve()) : undefined
      if (source) {
        report.update(`fetching ${a.what} from the head`)
        const url = `http://${source.address.includes(':') ? `[${source.address}]` : source.address}:${source.port}/${a.id}${a.archiveExt}`
        await ctx.session.run(s.unpackFromHeadScript(paths, url, a.archiveExt, a.probe, a.what), {label: `fetch ${a.what} from head`, timeoutMs: 600_000})
        return 'from-head'
      }
      await this.upload(ctx, a, paths, report)
      delivery = 'uploaded'
    }
    if (!state.unpacked) {
      report.update(`unpacking ${a.what}`)
      await ctx.session.run(s.unpackUploadedScript(paths, a.archiveExt, a.probe, a.what), {label: `unpack ${a.what}`, timeoutMs: 600_000})
    }
    return delivery
  }

  private async upload(ctx: HostContext, a: Artifact, paths: s.ArtifactPaths, report: HostReporter): Promise<void> {
    if (!a.path) throw new Error(`the ${a.what} archive ${a.id}${a.archiveExt} is missing on the head: pass ${a.flag} to upload it again`)
    await ctx.session.run(`mkdir -p ${shq(paths.distRoot)}`, {label: 'mkdir dist'})
    this.uploadedBytes += await ctx.session.upload(a.path, paths.distArchive, {
      onProgress: (sent, total) => report.update(`uploading ${a.what} ${Math.floor((sent / total) * 100)}%`),
    })
  }

  /** Uploads the archive into the unpack on the host (stdin of the unpack script), reporting progress by the percent. */
  private async streamInto(ctx: HostContext, a: Artifact, paths: s.ArtifactPaths, report: HostReporter): Promise<void> {
    if (!a.path) throw new Error(`the ${a.what} archive ${a.id}${a.archiveExt} is not on this machine: pass ${a.flag}`)
    let sent = 0
    let shown = -1
    // Counted as the SSH channel takes it (a 'data' listener on the file would start it flowing before the channel
    // is open, and the first chunks would be lost).
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sent += chunk.length
        const percent = Math.floor((sent / Math.max(1, a.bytes)) * 100)
        if (percent !== shown) report.update(`uploading and unpacking ${a.what} ${(shown = percent)}%`)
        done(null, chunk)
      },
    })
    const source = createReadStream(a.path)
    source.on('error', (error) => counted.destroy(error))
    source.pipe(counted)
    try {
      await ctx.session.run(s.unpackStreamedScript(paths, a.archiveExt, a.probe, a.what), {label: `upload and unpack ${a.what}`, stdin: counted, timeoutMs: 600_000})
    } finally {
      source.destroy()
      counted.destroy()
    }
    this.uploadedBytes += a.bytes
  }

  /** Where the archive is unpacked on this host (its root folder). */
  async root(ctx: HostContext, a: Artifact): Promise<string> {
    return (await ctx.session.run(s.artifactRootScript(s.artifactPaths(ctx.facts.home, a.id, a.archiveExt)), {label: `locate ${a.what}`})).trim()
  }

  /** Stops the head's distribution server, if one was started. */
  async finish(): Promise<void> {
    if (!this.server) return
    const ctx = await this.head.promise.catch(() => undefined)
    await ctx?.session.exec(s.stopServerScript(this.server.pid)).catch(() => undefined)
  }
}
