import {createHash} from 'node:crypto'
import {createReadStream, statSync} from 'node:fs'
import {basename, resolve} from 'node:path'
import {hostContext, type HostContext} from '../engines/host-context.js'
import {serveDistScript, stopServerScript} from '../engines/shipping-scripts.js'
import type {FileCopyReport, HostReport} from '../output/results.js'
import {UsageError} from '../remote/errors.js'
import {mapLimit} from '../remote/fanout.js'
import {shq} from '../remote/shell.js'
import {openClusterHosts, unreachableReason} from './cluster-hosts.js'
import type {RunOptions} from './context.js'
import {placeScript, stagedScript, stagingDir} from './copy-scripts.js'
import {selectHosts} from './host-select.js'

export interface CopyRequest {
  name: string
  local: string
  /** Where on each host: absolute, relative to the login home, or an existing folder to put the file in. */
  remote: string
  selectors: string[]
}

/** The local file to copy, refused (exit 2) before anything is contacted when it is not a readable regular file. */
export function checkLocalFile(path: string): {path: string; bytes: number; mode: number} {
  let stat
  try {
    stat = statSync(path)
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`)
  }
  if (!stat.isFile()) throw new UsageError(`${path} is not a file: copy puts one file on the hosts`)
  return {path: resolve(path), bytes: stat.size, mode: stat.mode}
}

export function checkRemotePath(remote: string): string {
  if (remote.trim() === '') throw new UsageError('the remote path is empty')
  if (/[\0\n]/.test(remote)) throw new UsageError(`invalid remote path ${JSON.stringify(remote)}`)
  return remote
}

interface FileServer {
  pid: number
  /** Where the other hosts fetch the staged file. */
  url: string
}

/** The shipping code's short-lived HTTP server on the head's private address, serving the staging folder; none without python3. */
async function startFileServer(head: HostContext, dir: string): Promise<FileServer | undefined> {
  if (!head.facts.python3) return undefined
  const out = await head.session.run(serveDistScript(dir, head.address, 900), {label: 'start file server'})
  const match = /pid=(\d+) port=(\d+)/.exec(out)
  if (!match) return undefined
  const address = head.address.includes(':') ? `[${head.address}]` : head.address
  return {pid: Number(match[1]), url: `http://${address}:${match[2]}/file`}
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/**
 * Puts one local file on the chosen hosts, as engines ship their archives: one upload to the head (staged under
 * ~/.cms/dist), the other hosts fetch it from a short-lived HTTP server on the head's private address (or get it
 * uploaded when they lack curl or the head lacks python3). Every copy is checked against the file's sha256 before
 * it replaces anything; the staged copy is removed at the end.
 */
export async function copyToHosts(req: CopyRequest, run: RunOptions): Promise<FileCopyReport> {
  const started = Date.now()
  const file = checkLocalFile(req.local)
  const remote = checkRemotePath(req.remote)
  const sha256 = await sha256File(file.path)
  const {handle, hosts, head} = await openClusterHosts(req.name, run)
  const name = basename(file.path)
  let uploadedBytes = 0
  let server: FileServer | undefined
  let headCtx: HostContext | undefined
  try {
    const targets = selectHosts(hosts, req.selectors)
    const why = unreachableReason(head)
    if (why) throw new Error(`${why}: copy goes through the head`)
    const headContext = await hostContext(await handle.pool.get(head.target), head)
    headCtx = headContext
    const stage = async (ctx: HostContext): Promise<string> => {
      const staged = `${stagingDir(ctx.facts.home, sha256)}/file`
      if ((await ctx.session.run(stagedScript(staged, sha256), {label: 'check staged copy'})).trim() !== 'ok') {
        await ctx.session.upload(file.path, staged)
        uploadedBytes += file.bytes
      }
      return staged
    }
    const headStaged = await stage(headContext)
    if (targets.some((t) => t !== head)) server = await startFileServer(headContext, stagingDir(headContext.facts.home, sha256))
    const url = server?.url
    const place = async (ctx: HostContext, source: string) =>
      (await ctx.session.run(placeScript({remote, name, source, sha256, mode: file.mode}), {label: `write ${remote}`, timeoutMs: 600_000})).trim()

    const reports = await mapLimit(targets, run.parallel, async (host): Promise<HostReport> => {
      const t0 = Date.now()
      const report = (r: Omit<HostReport, 'host' | 'seconds'>): HostReport => ({host: host.id, seconds: (Date.now() - t0) / 1000, ...r})
      try {
        const why = unreachableReason(host)
        if (why) throw new Error(why)
        if (host === head) return report({ok: true, detail: `${await place(headContext, `cat ${shq(headStaged)}`)} (uploaded)`})
        const ctx = await hostContext(await handle.pool.get(host.target), host)
        if (url && ctx.facts.curl) return report({ok: true, detail: `${await place(ctx, `curl -fsS --retry 3 ${shq(url)}`)} (from the head)`})
        const staged = await stage(ctx)
        try {
          return report({ok: true, detail: `${await place(ctx, `cat ${shq(staged)}`)} (uploaded)`})
        } finally {
          await ctx.session.exec(`rm -rf ${shq(stagingDir(ctx.facts.home, sha256))}`)
        }
      } catch (error) {
        return report({ok: false, error: (error as Error).message})
      }
    })
    return {cluster: req.name, local: file.path, remote, bytes: file.bytes, sha256, uploadedBytes, hosts: reports, seconds: (Date.now() - started) / 1000}
  } finally {
    if (server) await headCtx?.session.exec(stopServerScript(server.pid)).catch(() => undefined)
    if (headCtx) await headCtx.session.exec(`rm -rf ${shq(stagingDir(headCtx.facts.home, sha256))}`).catch(() => undefined)
    handle.pool.closeAll()
  }
}
