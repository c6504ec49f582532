/**
 * Writing values into Nomad's agent configuration, which Nomad reads with HCL 1 (hashicorp/hcl v1).
 *
 * HCL 1 strings know the escapes \\ \" \n \t \r and \uXXXX; `${` starts an interpolation inside which a `"` does
 * not end the string, so a value with `${` could break out of its quotes: such values are refused, as are
 * control characters and NUL. Everything else is escaped, so any accepted string stays one string.
 */
export function hclString(value: string): string {
  if (value.includes('${') || value.includes('%{')) {
    throw new Error(`a Nomad configuration value cannot contain "\${" or "%{": ${JSON.stringify(value)}`)
  }
  let out = '"'
  for (const ch of value) {
    const code = ch.codePointAt(0)!
    if (ch === '\\') out += '\\\\'
    else if (ch === '"') out += '\\"'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\t') out += '\\t'
    else if (ch === '\r') out += '\\r'
    else if (code < 0x20 || code === 0x7f) {
      throw new Error(`a Nomad configuration value cannot contain control characters: ${JSON.stringify(value)}`)
    } else out += ch
  }
  return out + '"'
}

export function hclList(values: readonly string[]): string {
  return `[${values.map(hclString).join(', ')}]`
}

/** A bare HCL number (integers only: every numeric setting cms writes is a count or a port). */
export function hclInt(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`)
  return String(n)
}
