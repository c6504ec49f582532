/** A URL as it may be shown or logged: its password replaced by ***; an unparsable one by its scheme alone. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return `${/^[a-z]+:/i.exec(url)?.[0] ?? ''}//(unparsable URL)`
  }
}
