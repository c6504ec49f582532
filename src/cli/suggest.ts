/** Edit distance where a swap of two neighbouring letters counts as one typo ("lsit" -> "list"). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({length: a.length + 1}, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/**
 * The commands or topics (ids like `cluster:create`, `cluster`) closest to what was typed. `words` are the typed
 * words before the first flag; the first `known` of them name an existing topic, so suggestions stay in it and
 * differ in the words after it. Equally close candidates are all returned (at most three); nothing when none is
 * close enough to be a typo. As close as a topic and one of its commands, the command wins ("clusters list" ->
 * "cluster list", not "cluster").
 */
export function closestCommands(words: string[], known: number, candidates: string[]): string[] {
  let best = Number.POSITIVE_INFINITY
  let found: string[] = []
  for (const candidate of new Set(candidates)) {
    const parts = candidate.split(':')
    if (parts.length <= known || parts.length > words.length) continue
    if (parts.slice(0, known).join(':') !== words.slice(0, known).join(':')) continue
    const typed = words.slice(known, parts.length).join(':')
    const distance = editDistance(typed, parts.slice(known).join(':'))
    if (distance > Math.max(1, Math.floor(typed.length / 3))) continue
    const score = distance - parts.length / 100
    if (score < best) {
      best = score
      found = [candidate]
    } else if (score === best) found.push(candidate)
  }
  return found.sort().slice(0, 3)
}
