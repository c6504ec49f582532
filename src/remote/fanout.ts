/** The outcome of one host's step in a fan-out. */
export interface HostResult<T> {
  host: string
  ok: boolean
  value?: T
  error?: Error
  ms: number
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e))
}

async function runBounded<I>(items: I[], limit: number, worker: (item: I, index: number) => Promise<void>): Promise<void> {
  const n = Math.max(1, Math.min(Number.isFinite(limit) ? Math.floor(limit) : items.length, items.length || 1))
  let next = 0
  const lanes = Array.from({length: Math.min(n, items.length)}, async () => {
    while (next < items.length) {
      const i = next++
      await worker(items[i]!, i)
    }
  })
  await Promise.all(lanes)
}

/**
 * Run `fn` for every host with at most `limit` in flight. Never rejects: each host gets a result
 * (ok + value, or error), in input order, with its elapsed time.
 */
export async function fanOut<T>(items: string[], limit: number, fn: (host: string, index: number) => Promise<T>): Promise<HostResult<T>[]> {
  const results = new Array<HostResult<T>>(items.length)
  await runBounded(items, limit, async (host, index) => {
    const start = performance.now()
    try {
      const value = await fn(host, index)
      results[index] = {host, ok: true, value, ms: Math.round(performance.now() - start)}
    } catch (error) {
      results[index] = {host, ok: false, error: toError(error), ms: Math.round(performance.now() - start)}
    }
  })
  return results
}

/**
 * Map with at most `limit` calls in flight; results in input order. On the first error no new items are
 * started, and the promise rejects with that error once every started call has settled.
 */
export async function mapLimit<I, O>(items: I[], limit: number, fn: (item: I, index: number) => Promise<O>): Promise<O[]> {
  const results = new Array<O>(items.length)
  let failed: {error: unknown} | undefined
  await runBounded(items, limit, async (item, index) => {
    if (failed) return
    try {
      results[index] = await fn(item, index)
    } catch (error) {
      failed ??= {error}
    }
  })
  if (failed) throw failed.error
  return results
}
