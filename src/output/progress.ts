import type {HostResult} from '../remote/fanout.js'

export interface HostReporter {
  /** Replaces the host's progress line, e.g. "uploading Spark 45%". */
  update(text: string): void
}

/**
 * One host's progress line shared by two steps that run at once (e.g. daemons starting while a second archive
 * arrives): the line shows both, "starting datanode · fetching Spark from the head"; an empty text clears a part.
 */
export function sharedLine(report: HostReporter): [HostReporter, HostReporter] {
  const parts = ['', '']
  const part = (i: number): HostReporter => ({
    update(text) {
      parts[i] = text
      report.update(parts.filter(Boolean).join(' · '))
    },
  })
  return [part(0), part(1)]
}

export interface HostStep<H> {
  key: string
  label: string
  item: H
}

/**
 * Runs one task per host with bounded concurrency and one progress line per host on stderr (listr2: redrawn on
 * a terminal, one line per change otherwise). Never throws: every host gets a result for the final report.
 */
export async function runPerHost<H, T>(
  steps: Array<HostStep<H>>,
  limit: number,
  fn: (item: H, report: HostReporter) => Promise<T>,
  opts: {quiet?: boolean; doneText?: (value: T) => string} = {},
): Promise<Array<HostResult<T>>> {
  const results: Array<HostResult<T>> = steps.map((s) => ({host: s.key, ok: false, ms: 0}))
  const run = async (index: number, report: HostReporter) => {
    const started = Date.now()
    try {
      const value = await fn(steps[index].item, report)
      results[index] = {host: steps[index].key, ok: true, value, ms: Date.now() - started}
      return value
    } catch (error) {
      results[index] = {host: steps[index].key, ok: false, error: error as Error, ms: Date.now() - started}
      throw error
    }
  }
  if (opts.quiet || steps.length === 0) {
    const {fanOut} = await import('../remote/fanout.js')
    await fanOut(steps.map((s) => s.key), limit, (_key, i) => run(i, {update() {}}))
    return results
  }
  const {Listr, ListrLogger, ProcessOutput} = await import('listr2')
  const logger = new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})
  const list = new Listr(
    steps.map((step, index) => ({
      title: step.label,
      task: async (_ctx: unknown, task: {title: string}) => {
        const value = await run(index, {update: (text) => (task.title = `${step.label}: ${text}`)})
        task.title = `${step.label}: ${opts.doneText ? opts.doneText(value) : 'done'}`
      },
    })),
    {
      concurrent: limit,
      exitOnError: false,
      collectErrors: false,
      renderer: 'default',
      rendererOptions: {logger, collapseErrors: false, showErrorMessage: true},
      fallbackRenderer: 'simple',
      fallbackRendererOptions: {logger},
      fallbackRendererCondition: !process.stderr.isTTY,
    },
  )
  await list.run().catch(() => undefined)
  return results
}
