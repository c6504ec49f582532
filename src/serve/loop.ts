/**
 * One of the service's background loops: runs `step` every `intervalMs` (sooner when poked, or when a step returns
 * a shorter delay), one step at a time, until stopped. Remembers when a step last finished and its last error, for /health.
 */
export class Loop {
  lastOkAt = 0
  lastError?: string
  private timer?: NodeJS.Timeout
  private running?: Promise<void>
  private stopped = true
  private again = false
  private stepStartedAt = 0
  private lastEndAt = 0

  constructor(
    readonly name: string,
    readonly intervalMs: number,
    private readonly step: () => Promise<number | void>,
    private readonly log: (line: string) => void,
    private readonly minGapMs = 100,
  ) {}

  start(): void {
    this.stopped = false
    this.schedule(0)
  }

  /**
   * Runs a step soon: coalesced with one already due, and at most one step per `minGapMs` however often it is poked
   * (a burst of requests wakes the loop once, not once each).
   */
  poke(): void {
    if (this.stopped) return
    if (this.running) this.again = true
    else this.schedule(Math.max(0, this.minGapMs - (Date.now() - this.lastEndAt)))
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.tick(), ms)
    this.timer.unref?.()
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return
    this.again = false
    this.stepStartedAt = Date.now()
    let next = this.intervalMs
    this.running = this.step()
      .then((soonMs) => {
        this.lastOkAt = Date.now()
        this.lastError = undefined
        if (typeof soonMs === 'number') next = Math.max(this.minGapMs, Math.min(next, soonMs))
      })
      .catch((error: Error) => {
        const line = error.message.split('\n')[0]
        if (line !== this.lastError) this.log(`${this.name}: ${line}`)
        this.lastError = line
      })
    await this.running
    this.running = undefined
    this.lastEndAt = Date.now()
    if (!this.stopped) this.schedule(this.again ? this.minGapMs : next)
  }

  /**
   * Healthy when a step finished within `slackMs`, or one is under way and has not taken five times that (a step
   * may be slow, not stuck).
   */
  healthy(now: number, slackMs: number): boolean {
    if (this.stopped) return false
    return now - this.lastOkAt <= slackMs || (this.running !== undefined && now - this.stepStartedAt <= 5 * slackMs)
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.running
  }
}
