/** What Jupyter records about a running server (its runtime file jpserver-PID.json), as far as cms needs it. */
export interface JupyterServerInfo {
  pid: number
  port: number
  baseUrl: string
  token: string
}

/** Jupyter's runtime record, or undefined when the output holds none (the server is not up yet, or not running). */
export function parseServerInfo(output: string): JupyterServerInfo | undefined {
  const text = output.trim()
  if (!text.startsWith('{')) return undefined
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(text) as Record<string, unknown>
  } catch {
    return undefined
  }
  const {pid, port, token} = raw
  const baseUrl = typeof raw.base_url === 'string' ? raw.base_url : '/'
  if (typeof pid !== 'number' || typeof port !== 'number' || typeof token !== 'string') return undefined
  return {pid, port, baseUrl: baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`, token}
}

/** The login link as Jupyter prints it (`http://HOST:PORT/lab?token=...`), with the tunnel's local end as HOST:PORT. */
export function loginLink(info: JupyterServerInfo, localPort: number): string {
  const token = info.token ? `?token=${encodeURIComponent(info.token)}` : ''
  return `http://127.0.0.1:${localPort}${info.baseUrl}lab${token}`
}
