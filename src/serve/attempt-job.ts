import {join} from 'node:path'
import type {Engine, LoadedJob} from '../engines/engine.js'
import type {JobSpec} from '../jobs/spec.js'
import type {FileStore} from './files.js'
import type {AttemptRow, FileRef, TaskRow} from './store/store.js'

/** The name of the spec file in an attempt's work folder (uploads cannot start with a dot). */
const SPEC_FILE = '.cms-task.json'

/**
 * The task's job as its engine loads it, exactly as `cms cluster submit` would load the same files: a work folder
 * holding the uploads under their names and the spec (named for this attempt, no engine retries) or the jobfile.
 * `remove` deletes the folder once the engine has taken the files.
 */
export async function loadAttemptJob(task: Pick<TaskRow, 'id' | 'kind' | 'body'>, attempt: Pick<AttemptRow, 'n' | 'engine_name'>, engine: Engine, files: FileStore, refs: readonly FileRef[]): Promise<{job: LoadedJob; remove: () => void}> {
  const body = JSON.parse(task.body) as JobSpec | {name: string; content: string}
  const main = task.kind === 'spec' ? {[SPEC_FILE]: JSON.stringify({...(body as JobSpec), name: attempt.engine_name, retries: 0})} : {[(body as {name: string}).name]: (body as {content: string}).content}
  const work = files.materialize(`${task.id}-${attempt.n}`, refs, main)
  try {
    const [job] = await engine.loadJobs([join(work.dir, Object.keys(main)[0]!)], {})
    return {job: job!, remove: work.remove}
  } catch (error) {
    work.remove()
    throw error
  }
}

/** Whether a job the engine lists is the one an attempt submitted under `engineName`. */
export function isAttemptJob(job: {id: string; name: string}, engineName: string): boolean {
  return job.name === engineName || job.id === engineName || job.id.startsWith(`${engineName}-`) || job.id.endsWith(`/${engineName}`)
}
