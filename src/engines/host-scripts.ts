import {shq} from '../remote/shell.js'

/** Pure builders of host scripts every engine shares. */

/**
 * A pgrep/pkill pattern for a path that does not match the shell running the script: its own command line
 * contains the pattern text, and `[/]x` matches "/x" but not "[/]x". Regex metacharacters in the path are escaped.
 */
export function selfSafePattern(path: string): string {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return shq(`[${escaped[0]}]${escaped.slice(1)}`)
}

/**
 * Shell function `ours PID NAME [TEXT]`: is PID a process of the program NAME (its argv[0]'s last part), whose
 * command line holds TEXT when given? A pid file outlives a host's reboot, and its number may then belong to
 * anything (sshd): scripts take nothing as running, and stop nothing, on the number alone. A zombie is not ours.
 */
export const OWN_PROCESS_FUNCTION =
  'ours() { a0=$(tr "\\0" "\\n" < "/proc/$1/cmdline" 2>/dev/null | head -n 1) && [ "${a0##*/}" = "$2" ] && { [ -z "${3:-}" ] || tr "\\0" " " < "/proc/$1/cmdline" | grep -qF -- "$3"; }; }'

/**
 * Once no cluster uses the host any more, removes ~/.cms altogether (the dist cache with it, after stopping any
 * distribution server still serving from it), so the host is as it was before cms.
 */
export function releaseCmsHomeScript(home: string): string {
  const cmsDir = `${home}/.cms`
  return [
    `rmdir ${shq(`${cmsDir}/clusters`)} 2>/dev/null || true`,
    `if [ ! -d ${shq(`${cmsDir}/clusters`)} ]; then pkill -f -- ${selfSafePattern(`${cmsDir}/dist`)} 2>/dev/null || true; rm -rf ${shq(cmsDir)}; fi`,
  ].join('\n')
}
