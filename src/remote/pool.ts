import {type ConnectOptions, SshSession} from './session.js'
import {type SshTarget, targetLabel} from './target.js'

/** One SshSession per target (by targetLabel), reused; connects to different hosts in parallel. */
export class SessionPool {
  private readonly sessions = new Map<string, Promise<SshSession>>()

  constructor(private readonly opts: ConnectOptions) {}

  /** The session for this target; concurrent callers share one connect. A failed connect is not cached. */
  get(target: SshTarget): Promise<SshSession> {
    const key = targetLabel(target)
    let p = this.sessions.get(key)
    if (!p) {
      p = SshSession.connect(target, this.opts)
      this.sessions.set(key, p)
      p.catch(() => {
        if (this.sessions.get(key) === p) this.sessions.delete(key)
      })
    }
    return p
  }

  closeAll(): void {
    for (const p of this.sessions.values()) p.then((s) => s.close(), () => undefined)
    this.sessions.clear()
  }
}
