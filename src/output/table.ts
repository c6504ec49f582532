/** Plain aligned columns, like kubectl get: headers in capitals, no borders, '-' for missing values. */
export function table(headers: string[], rows: Array<Array<string | number | undefined>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined || c === '' ? '-' : String(c))))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('   ')).join('\n')
}

export function mb(value: number | undefined): string | undefined {
  if (value === undefined) return undefined
  return value >= 1024 ? `${(value / 1024).toFixed(1)} GiB` : `${value} MiB`
}

/** Bytes as the largest whole unit that keeps one decimal readable: 48 KiB, 3.2 GiB, 504.0 GiB. */
export function gb(bytes: number | undefined): string | undefined {
  if (bytes === undefined) return undefined
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
}
