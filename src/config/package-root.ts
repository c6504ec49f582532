import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

let cached: string | undefined

/**
 * The directory of cms's own package.json. Found by walking up because this code runs both from src/ (tests) and
 * from a bundled chunk under dist/, at different depths.
 */
export function packageRoot(): string {
  if (cached) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let depth = 0; depth < 8; depth++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'images'))) return (cached = dir)
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  throw new Error(`cms's package directory was not found above ${fileURLToPath(import.meta.url)}`)
}
