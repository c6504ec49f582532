import type {Db} from './db.js'

const HOUR = 3_600_000

export interface HourlyStats {
  /** Start of each hour (ms), oldest first. */
  hours: number[]
  /** Tasks that ended in each hour, by end state. */
  ended: Record<'SUCCEEDED' | 'DEAD' | 'KILLED', number[]>
  /** Tasks queued at the end of each hour. */
  depth: number[]
  /** Mean wait (s) from QUEUED to handed over, of the handovers in each hour (null: none). */
  waitSeconds: Array<number | null>
}

/**
 * The last `hours` whole hours up to `now`, from the audit trail: end states per hour, queue depth at each hour's
 * end (moves into QUEUED minus moves out of it, over all time), and the mean wait of the hour's handovers.
 */
export async function hourlyStats(db: Db, now: number, hours = 24): Promise<HourlyStats> {
  const end = Math.floor(now / HOUR) * HOUR + HOUR
  const start = end - hours * HOUR
  const starts = Array.from({length: hours}, (_, i) => start + i * HOUR)
  const bucket = (at: number) => Math.floor((Number(at) - start) / HOUR)
  const ended = {SUCCEEDED: starts.map(() => 0), DEAD: starts.map(() => 0), KILLED: starts.map(() => 0)}
  const endings = await db.all<{to_state: keyof typeof ended; at: number}>(
    "SELECT to_state, at FROM events WHERE to_state IN ('SUCCEEDED', 'DEAD', 'KILLED') AND (from_state IS NULL OR from_state <> to_state) AND at >= $1 AND at < $2",
    [start, end],
  )
  for (const e of endings) ended[e.to_state][bucket(e.at)]!++
  const [before] = await db.all<{ins: number | null; outs: number | null}>(
    "SELECT SUM(CASE WHEN to_state = 'QUEUED' AND (from_state IS NULL OR from_state <> 'QUEUED') THEN 1 ELSE 0 END) AS ins, SUM(CASE WHEN from_state = 'QUEUED' AND to_state <> 'QUEUED' THEN 1 ELSE 0 END) AS outs FROM events WHERE at < $1",
    [start],
  )
  const moves = await db.all<{from_state: string | null; to_state: string; at: number}>(
    "SELECT from_state, to_state, at FROM events WHERE at >= $1 AND at < $2 AND ((to_state = 'QUEUED' AND (from_state IS NULL OR from_state <> 'QUEUED')) OR (from_state = 'QUEUED' AND to_state <> 'QUEUED'))",
    [start, end],
  )
  const delta = starts.map(() => 0)
  for (const m of moves) delta[bucket(m.at)]! += m.to_state === 'QUEUED' ? 1 : -1
  let level = Number(before?.ins ?? 0) - Number(before?.outs ?? 0)
  const depth = delta.map((d) => (level = Math.max(0, level + d)))
  const waits = await db.all<{at: number; waited: number}>(
    `SELECT e.at AS at, e.at - (SELECT MAX(q.at) FROM events q WHERE q.task_id = e.task_id AND q.to_state = 'QUEUED' AND q.at <= e.at) AS waited
     FROM events e WHERE e.from_state = 'QUEUED' AND e.to_state = 'SUBMITTED' AND e.at >= $1 AND e.at < $2`,
    [start, end],
  )
  const sums = starts.map(() => ({n: 0, total: 0}))
  for (const w of waits) {
    if (w.waited === null) continue
    const b = sums[bucket(w.at)]!
    b.n++
    b.total += Number(w.waited)
  }
  return {hours: starts, ended, depth, waitSeconds: sums.map((s) => (s.n ? s.total / s.n / 1000 : null))}
}
