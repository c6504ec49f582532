import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {basename} from 'node:path'
import {isUrl} from '../jobs/spec.js'
import {mapLimit} from '../remote/fanout.js'
import type {SshSession} from '../remote/session.js'
import {shq} from '../remote/shell.js'

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/**
 * Puts a job's local files at the same content-addressed path on the given hosts (a job may run on any of them;
 * the path names the content, so resubmitting never uploads twice). URLs pass through untouched.
 */
export class FileStager {
  private readonly uploads = new Map<string, Promise<string>>()

  /** `filesDir`: the cluster's files folder, the same absolute path on every host. */
  constructor(private readonly filesDir: string) {}

  stage(localPath: string, targets: Array<{id: string; session: SshSession}>): Promise<string> {
    // Keyed by the remote path: two local files with the same content (two submissions of one upload) share it.
    return sha256File(localPath).then((sha) => {
      const remote = `${this.filesDir}/${sha.slice(0, 16)}/${basename(localPath)}`
      const key = `${remote}\0${targets.map((t) => t.id).join(',')}`
      let staged = this.uploads.get(key)
      if (!staged) {
        staged = mapLimit(targets, 16, async ({session}) => {
          const state = await session.run(`test -f ${shq(remote)} && echo present || mkdir -p ${shq(remote.slice(0, remote.lastIndexOf('/')))}`, {label: 'check job file'})
          if (state.trim() !== 'present') await session.upload(localPath, remote)
        }).then(() => remote)
        this.uploads.set(key, staged)
        staged.catch(() => this.uploads.delete(key))
      }
      return staged
    })
  }

  stageAll(paths: string[], targets: Array<{id: string; session: SshSession}>): Promise<string[]> {
    return Promise.all(paths.map((p) => (isUrl(p) ? Promise.resolve(p) : this.stage(p, targets))))
  }
}
