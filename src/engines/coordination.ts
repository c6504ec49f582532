/** A promise settled from outside: how one host's pipeline waits for a step on another host. */
export class Deferred<T> {
  readonly promise: Promise<T>
  resolve!: (value: T) => void
  reject!: (error: Error) => void
  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    this.promise.catch(() => undefined)
  }
}

/** Runs `fn` once, on first use, and shares its promise. */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined
  return () => (value ??= fn())
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Polls `check` (at most 1000 times, backing off to once a second) until it holds or `timeoutMs` passes. */
export async function waitFor(timeoutMs: number, check: () => Promise<boolean>, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: Error | undefined
  for (let attempt = 0; Date.now() < deadline && attempt < 1000; attempt++) {
    try {
      if (await check()) return
    } catch (error) {
      lastError = error as Error
    }
    await sleep(Math.min(1000, 200 * (attempt + 1)))
  }
  throw new Error(`${message} within ${Math.round(timeoutMs / 1000)} s${lastError ? ` (${lastError.message})` : ''}`)
}

/**
 * A read shared by concurrent callers (every host's pipeline polling one API): once `ready` resolves, `read` runs at
 * most about once per `everyMs`; a failed read is not kept, so the next caller tries again.
 */
export function sharedPoll<C, T>(ready: Promise<C>, read: (ctx: C) => Promise<T>, everyMs = 900): () => Promise<T> {
  let last: {at: number; value: Promise<T>} | undefined
  return async () => {
    const ctx = await ready
    if (!last || Date.now() - last.at > everyMs) {
      const value = read(ctx)
      last = {at: Date.now(), value}
      value.catch(() => {
        last = undefined
      })
    }
    return last.value
  }
}
