import {shq} from '../remote/shell.js'

/** Pure builders of the scripts `cms cluster copy` runs on hosts. */

/** The staging folder of one file's content on a host, under the dist folder that `kill` removes with ~/.cms. */
export function stagingDir(home: string, sha256: string): string {
  return `${home}/.cms/dist/copy-${sha256.slice(0, 16)}`
}

/** A remote path as a shell word: `~` and `~/...` are the login home (as scp takes them), others as they are. */
export function remotePathWord(remote: string): string {
  if (remote === '~') return '"$HOME"'
  if (remote.startsWith('~/')) return `"$HOME"/${shq(remote.slice(2))}`
  return shq(remote)
}

/** Prints `ok` when `path` holds the file with this sha256 already. */
export function stagedScript(path: string, sha256: string): string {
  return `[ -f ${shq(path)} ] && [ "$(sha256sum < ${shq(path)} | cut -d' ' -f1)" = ${shq(sha256)} ] && echo ok || mkdir -p ${shq(path.slice(0, path.lastIndexOf('/')))}`
}

/**
 * Writes what `source` (a shell pipeline writing the file to stdout) gives to REMOTE (into it, under `name`, when
 * it is a folder), through a temporary file that must have this sha256 before it replaces anything. Prints the
 * path written.
 */
export function placeScript(p: {remote: string; name: string; source: string; sha256: string; mode: number}): string {
  return [
    'set -e',
    `dest=${remotePathWord(p.remote)}`,
    'case "$dest" in /*) ;; *) dest="$PWD/$dest" ;; esac',
    `if [ -d "$dest" ]; then dest="\${dest%/}/"${shq(p.name)}; fi`,
    'dir=$(dirname -- "$dest")',
    '[ -d "$dir" ] || { echo "there is no folder $dir" >&2; exit 2; }',
    'tmp="$dest.cms-copy.$$"',
    `trap 'rm -f "$tmp"' EXIT`,
    `${p.source} > "$tmp"`,
    `got=$(sha256sum < "$tmp" | cut -d' ' -f1)`,
    `[ "$got" = ${shq(p.sha256)} ] || { echo "the copy's sha256 is $got, not the file's" >&2; exit 3; }`,
    `chmod ${(p.mode & 0o777).toString(8).padStart(4, '0')} "$tmp"`,
    'mv -f "$tmp" "$dest"',
    'trap - EXIT',
    `printf '%s\\n' "$dest"`,
  ].join('\n')
}
