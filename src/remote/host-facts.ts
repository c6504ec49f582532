import type {SshSession} from './session.js'

/** What cms needs to know about a host before it installs anything, gathered in one round trip. */
export interface HostFacts {
  home: string
  /** The address the host was reached on, from $SSH_CONNECTION: the host's own view of its address. */
  connectedAddress: string
  java: boolean
  python3: boolean
  curl: boolean
  cores: number
}

export const PROBE_SCRIPT = [
  `printf 'home=%s\\n' "$HOME"`,
  `printf 'ssh=%s\\n' "$SSH_CONNECTION"`,
  `printf 'java=%s\\n' "$(command -v java || true)"`,
  `printf 'python3=%s\\n' "$(command -v python3 || true)"`,
  `printf 'curl=%s\\n' "$(command -v curl || true)"`,
  `printf 'cores=%s\\n' "$(nproc 2>/dev/null || echo 1)"`,
].join('; ')

export function parseFacts(output: string): HostFacts {
  const values = new Map<string, string>()
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1).trim())
  }
  const home = values.get('home')
  if (!home || !home.startsWith('/')) throw new Error('the host did not report a home directory ($HOME)')
  return {
    home,
    connectedAddress: (values.get('ssh') ?? '').split(/\s+/)[2] ?? '',
    java: Boolean(values.get('java')),
    python3: Boolean(values.get('python3')),
    curl: Boolean(values.get('curl')),
    cores: Number(values.get('cores')) || 1,
  }
}

const cache = new WeakMap<SshSession, Promise<HostFacts>>()

export function hostFacts(session: SshSession): Promise<HostFacts> {
  let facts = cache.get(session)
  if (!facts) {
    facts = session.run(PROBE_SCRIPT, {label: 'probe host'}).then(parseFacts)
    cache.set(session, facts)
  }
  return facts
}
