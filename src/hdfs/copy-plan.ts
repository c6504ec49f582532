import {posix} from 'node:path'
import {UsageError} from '../remote/errors.js'

/**
 * What `cms cluster put` and `get` copy where, decided from what exists on both sides (pure): the rules of
 * `hdfs dfs -put` / `-get` and `cp -r`. A source folder is copied whole; into DEST when DEST is a folder, else as
 * DEST; several sources need DEST to be a folder.
 */

/** A source, walked: a file, or a folder with every file and folder below it (relative paths). */
export interface SourceTree {
  path: string
  kind: 'file' | 'dir'
  bytes: number
  files: Array<{rel: string; bytes: number}>
  dirs: string[]
}

export interface CopyPlan {
  /** Folders to make first (parents before children). */
  dirs: string[]
  copies: Array<{from: string; to: string; bytes: number}>
  bytes: number
}

export function planCopy(sources: SourceTree[], dest: {path: string; kind?: 'file' | 'dir'}, where: {from: string; to: string}): CopyPlan {
  if (sources.length === 0) throw new UsageError('nothing to copy: name at least one source')
  const intoFolder = dest.kind === 'dir'
  if (sources.length > 1 && !intoFolder) {
    throw new UsageError(`${dest.path} is not a folder ${where.to}: copying ${sources.length} sources needs one`)
  }
  const plan: CopyPlan = {dirs: [], copies: [], bytes: 0}
  for (const source of sources) {
    const target = intoFolder ? posix.join(dest.path, posix.basename(source.path)) : dest.path
    if (source.kind === 'file') {
      plan.copies.push({from: source.path, to: target, bytes: source.bytes})
      continue
    }
    if (!intoFolder && dest.kind === 'file') throw new UsageError(`${dest.path} is a file ${where.to}: cannot copy the folder ${source.path} onto it`)
    plan.dirs.push(target, ...source.dirs.map((d) => posix.join(target, d)))
    for (const f of source.files) plan.copies.push({from: posix.join(source.path, f.rel), to: posix.join(target, f.rel), bytes: f.bytes})
  }
  const seen = new Set<string>()
  for (const c of plan.copies) {
    if (seen.has(c.to)) throw new UsageError(`two sources would be copied to ${c.to} ${where.to}`)
    seen.add(c.to)
    plan.bytes += c.bytes
  }
  return plan
}

/** An HDFS path as `hdfs dfs` reads it: absolute, or relative to the user's home folder /user/NAME. */
export function hdfsPath(path: string, user: string): string {
  const bare = path.replace(/^hdfs:\/\/[^/]*/, '')
  if (bare.includes('\0')) throw new UsageError(`invalid HDFS path ${JSON.stringify(path)}`)
  const absolute = bare.startsWith('/') ? bare : posix.join('/user', user, bare || '.')
  const normal = posix.normalize(absolute)
  return normal.length > 1 ? normal.replace(/\/$/, '') : normal
}
