import {ENGINE_NAMES} from '../engines/registry.js'
import {HOST_MAKERS, PROVIDER_NAMES} from '../providers/registry.js'

/** 'a', 'a or b', 'a, b or c': a list of names for help text. */
export function wordList(names: readonly string[], last: 'or' | 'and'): string {
  if (names.length <= 1) return names.join('')
  return `${names.slice(0, -1).join(', ')} ${last} ${names.at(-1)}`
}

/**
 * The registered engines and providers as help text names them, so a new one shows up in every command's help by
 * itself (test/unit/cli/help-names.test.ts checks that each is named where it applies).
 */
export const helpWords = {
  engines: wordList(ENGINE_NAMES, 'or'),
  providers: wordList(PROVIDER_NAMES, 'or'),
  allProviders: wordList(PROVIDER_NAMES, 'and'),
  hostMakers: wordList(HOST_MAKERS, 'and'),
  hostTakers: wordList(PROVIDER_NAMES.filter((p) => !HOST_MAKERS.includes(p)), 'and'),
}
