import {escapeHtml, raw, type Html} from './html.js'

/** Small server-made SVG charts: colours come from CSS classes (light and dark themes), never inline styles. */

const W = 480
const H = 120
const PAD = {left: 34, right: 6, top: 8, bottom: 18}

export interface Series {
  name: string
  /** A CSS class that colours it (c-ok, c-dead, c-killed, c-line, ...). */
  cls: string
  values: Array<number | null>
}

function hourLabel(ms: number): string {
  return new Date(ms).toISOString().slice(11, 13)
}

function axis(max: number, hours: number[], title: string): string {
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max)
  const ticks = [0, max / 2, max].map((v) => `<text class="axis" x="${PAD.left - 4}" y="${y(v) + 3}" text-anchor="end">${Number.isInteger(v) ? v : v.toFixed(1)}</text>`)
  const step = Math.max(1, Math.ceil(hours.length / 8))
  const xw = (W - PAD.left - PAD.right) / hours.length
  const labels = hours.map((h, i) => (i % step === 0 ? `<text class="axis" x="${PAD.left + xw * i + xw / 2}" y="${H - 4}" text-anchor="middle">${hourLabel(h)}</text>` : '')).join('')
  return `<title>${escapeHtml(title)}</title><line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(0)}" y2="${y(0)}"/>${ticks.join('')}${labels}`
}

const niceMax = (values: number[]) => {
  const m = Math.max(1, ...values)
  const p = 10 ** Math.floor(Math.log10(m))
  return Math.ceil(m / p) * p
}

/** Stacked bars per hour (e.g. tasks ended by state). */
export function stackedBars(title: string, hours: number[], series: Series[]): Html {
  const totals = hours.map((_, i) => series.reduce((a, s) => a + (s.values[i] ?? 0), 0))
  const max = niceMax(totals)
  const xw = (W - PAD.left - PAD.right) / hours.length
  const scale = (H - PAD.top - PAD.bottom) / max
  const bars: string[] = []
  hours.forEach((h, i) => {
    let base = H - PAD.bottom
    for (const s of series) {
      const v = s.values[i] ?? 0
      if (v <= 0) continue
      const hgt = v * scale
      base -= hgt
      bars.push(`<rect class="${s.cls}" x="${(PAD.left + xw * i + 1).toFixed(1)}" y="${base.toFixed(1)}" width="${Math.max(1, xw - 2).toFixed(1)}" height="${hgt.toFixed(1)}"><title>${hourLabel(h)}:00 UTC ${escapeHtml(s.name)}: ${v}</title></rect>`)
    }
  })
  return raw(`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">${axis(max, hours, title)}${bars.join('')}</svg>`)
}

/** One line per series over the hours (gaps where a value is null). */
export function lines(title: string, hours: number[], series: Series[]): Html {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null))
  const max = niceMax(all)
  const xw = (W - PAD.left - PAD.right) / hours.length
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max)
  const paths = series.map((s) => {
    let d = ''
    let pen = false
    s.values.forEach((v, i) => {
      if (v === null) {
        pen = false
        return
      }
      d += `${pen ? 'L' : 'M'}${(PAD.left + xw * i + xw / 2).toFixed(1)} ${y(v).toFixed(1)} `
      pen = true
    })
    const dots = s.values.map((v, i) => (v === null ? '' : `<circle class="${s.cls}" cx="${(PAD.left + xw * i + xw / 2).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2"><title>${hourLabel(hours[i]!)}:00 UTC ${escapeHtml(s.name)}: ${Math.round(v * 10) / 10}</title></circle>`)).join('')
    return `<path class="line ${s.cls}" d="${d.trim()}"/>${dots}`
  })
  return raw(`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">${axis(max, hours, title)}${paths.join('')}</svg>`)
}

/** A horizontal used-of-total bar (a cluster's cores or memory). */
export function usageBar(label: string, used: number, total: number, unit: string): Html {
  const share = total > 0 ? Math.min(1, used / total) : 0
  const text = `${label}: ${round(used)} of ${round(total)} ${unit} used`
  return raw(`<svg class="bar" viewBox="0 0 200 14" role="img" aria-label="${escapeHtml(text)}"><title>${escapeHtml(text)}</title><rect class="free" x="0" y="0" width="200" height="14"/><rect class="used" x="0" y="0" width="${(200 * share).toFixed(1)}" height="14"/></svg>`)
}

const round = (v: number) => Math.round(v * 10) / 10
