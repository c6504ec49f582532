import {createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync} from 'node:fs'
import {posix, resolve} from 'node:path'
import {Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {hostContext} from '../engines/host-context.js'
import type {WebHdfs} from '../engines/hadoop/webhdfs.js'
import {planCopy, hdfsPath, type CopyPlan, type SourceTree} from '../hdfs/copy-plan.js'
import {runPerHost, type HostReporter} from '../output/progress.js'
import type {HdfsCopyReport} from '../output/results.js'
import {UsageError} from '../remote/errors.js'
import {mapLimit} from '../remote/fanout.js'
import {openCluster, type RunOptions} from './context.js'
import {validateClusterName} from './names.js'
import {NotFoundError} from './not-found.js'

export interface HdfsCopyRequest {
  name: string
  sources: string[]
  dest: string
  /** Replace files that exist at the destination. */
  force: boolean
}

/** Files copied at once. */
const CONCURRENT_FILES = 4

/** A local file or folder, walked (folders recursively); a missing one is bad usage. */
export function walkLocal(path: string): SourceTree {
  const absolute = resolve(path)
  if (!existsSync(absolute)) throw new UsageError(`no such file or folder: ${path}`)
  const stat = statSync(absolute)
  if (!stat.isDirectory()) return {path: absolute, kind: 'file', bytes: stat.size, files: [], dirs: []}
  const tree: SourceTree = {path: absolute, kind: 'dir', bytes: 0, files: [], dirs: []}
  const visit = (rel: string) => {
    for (const entry of readdirSync(posix.join(absolute, rel), {withFileTypes: true})) {
      const child = rel ? posix.join(rel, entry.name) : entry.name
      const s = statSync(posix.join(absolute, child))
      if (s.isDirectory()) {
        tree.dirs.push(child)
        visit(child)
      } else {
        tree.files.push({rel: child, bytes: s.size})
        tree.bytes += s.size
      }
    }
  }
  visit('')
  return tree
}

/** An HDFS file or folder, walked through WebHDFS; a missing one is bad usage. */
async function walkHdfs(client: WebHdfs, path: string): Promise<SourceTree> {
  const status = await client.status(path)
  if (!status) throw new UsageError(`no such file or folder in HDFS: ${path}`)
  if (status.type !== 'DIRECTORY') return {path, kind: 'file', bytes: status.length, files: [], dirs: []}
  const tree: SourceTree = {path, kind: 'dir', bytes: 0, files: [], dirs: []}
  const visit = async (rel: string) => {
    for (const entry of await client.list(rel ? posix.join(path, rel) : path)) {
      const child = rel ? posix.join(rel, entry.pathSuffix) : entry.pathSuffix
      if (entry.type === 'DIRECTORY') {
        tree.dirs.push(child)
        await visit(child)
      } else {
        tree.files.push({rel: child, bytes: entry.length})
        tree.bytes += entry.length
      }
    }
  }
  await visit('')
  return tree
}

function localKind(path: string): 'file' | 'dir' | undefined {
  if (!existsSync(path)) return undefined
  return statSync(path).isDirectory() ? 'dir' : 'file'
}

/** Counts bytes as they pass, for the progress line. */
function progress(total: number, report: HostReporter): Transform {
  let done = 0
  let shown = -1
  return new Transform({
    transform(chunk: Buffer, _enc, callback) {
      done += chunk.length
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100
      if (pct !== shown) {
        shown = pct
        report.update(`${pct}% of ${formatBytes(total)}`)
      }
      callback(null, chunk)
    },
  })
}

function formatBytes(n: number): string {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`
}

/** Opens the cluster's HDFS (through the head's SSH connection) for `use`, and closes the connections after. */
async function withHdfs<T>(name: string, run: RunOptions, use: (client: WebHdfs, user: string) => Promise<T>): Promise<T> {
  validateClusterName(name)
  const handle = await openCluster(name, run)
  try {
    const hosts = await handle.provider.observe(name)
    const head = hosts.find((h) => h.role === 'head')
    if (!head) throw new NotFoundError(`cluster ${JSON.stringify(name)} not found`)
    const ctx = await hostContext(await handle.pool.get(head.target), head)
    const endpoint = await handle.engine.hdfs?.({cluster: name, head: ctx})
    if (!endpoint) throw new UsageError(`cluster ${name} has no HDFS (it runs ${handle.engine.name}; create a hadoop cluster for one)`)
    const {WebHdfs} = await import('../engines/hadoop/webhdfs.js')
    const user = head.target.user
    return await use(new WebHdfs(ctx.session, endpoint, user), user)
  } finally {
    handle.pool.closeAll()
  }
}

/** Runs the copies (a few at once, a progress line each) once the plan's folders exist. */
async function copyAll(plan: CopyPlan, run: RunOptions, copy: (c: CopyPlan['copies'][number], report: HostReporter) => Promise<void>): Promise<HdfsCopyReport['files']> {
  const steps = plan.copies.map((c) => ({key: c.to, label: c.to, item: c}))
  const results = await runPerHost(steps, Math.min(CONCURRENT_FILES, run.parallel), async (c, report) => copy(c, report), {quiet: run.quiet, doneText: () => 'copied'})
  return results.map((r, i) => ({...plan.copies[i]!, seconds: r.ms / 1000, ok: r.ok, ...(r.ok ? {} : {error: r.error?.message})}))
}

/** `cms cluster put`: local files and folders into the cluster's HDFS. Nothing is written when a target exists (without --force). */
export async function putToHdfs(req: HdfsCopyRequest, run: RunOptions): Promise<HdfsCopyReport> {
  const started = Date.now()
  const sources = req.sources.map(walkLocal)
  return withHdfs(req.name, run, async (client, user) => {
    const dest = hdfsPath(req.dest, user)
    const destStatus = await client.status(dest)
    const plan = planCopy(sources, {path: dest, kind: destStatus ? (destStatus.type === 'DIRECTORY' ? 'dir' : 'file') : undefined}, {from: 'here', to: 'in HDFS'})
    const existing = await mapLimit(plan.copies, 8, async (c) => ({c, status: await client.status(c.to)}))
    for (const {c, status} of existing) {
      if (status?.type === 'DIRECTORY') throw new UsageError(`${c.to} is a folder in HDFS: cannot write the file ${c.from} there`)
      if (status && !req.force) throw new UsageError(`${c.to} already exists in HDFS (--force replaces it)`)
    }
    for (const d of plan.dirs) await client.mkdirs(d)
    const files = await copyAll(plan, run, async (c, report) => {
      const counted = createReadStream(c.from).pipe(progress(c.bytes, report))
      await client.create(c.to, {stream: counted, bytes: c.bytes}, req.force)
    })
    return {cluster: req.name, direction: 'put', files, dirs: plan.dirs, bytes: plan.bytes, seconds: (Date.now() - started) / 1000}
  })
}

/** `cms cluster get`: files and folders of the cluster's HDFS to the local disk, each written whole or not at all. */
export async function getFromHdfs(req: HdfsCopyRequest, run: RunOptions): Promise<HdfsCopyReport> {
  const started = Date.now()
  const dest = resolve(req.dest)
  return withHdfs(req.name, run, async (client, user) => {
    const sources = await mapLimit(req.sources, 4, (s) => walkHdfs(client, hdfsPath(s, user)))
    const plan = planCopy(sources, {path: dest, kind: localKind(dest)}, {from: 'in HDFS', to: 'here'})
    for (const c of plan.copies) {
      const kind = localKind(c.to)
      if (kind === 'dir') throw new UsageError(`${c.to} is a folder: cannot write the file ${c.from} there`)
      if (kind && !req.force) throw new UsageError(`${c.to} already exists (--force replaces it)`)
    }
    for (const d of plan.dirs) mkdirSync(d, {recursive: true})
    const files = await copyAll(plan, run, async (c, report) => {
      mkdirSync(posix.dirname(c.to), {recursive: true})
      const part = `${c.to}.cms-${process.pid}.part`
      try {
        await pipeline(await client.open(c.from), progress(c.bytes, report), createWriteStream(part))
        renameSync(part, c.to)
      } catch (error) {
        rmSync(part, {force: true})
        throw error
      }
    })
    return {cluster: req.name, direction: 'get', files, dirs: plan.dirs, bytes: plan.bytes, seconds: (Date.now() - started) / 1000}
  })
}
