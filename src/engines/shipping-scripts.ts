import {shq} from '../remote/shell.js'
import type {ArchiveExt} from './artifact.js'

/**
 * Pure builders of the scripts that put an archive on a host: check what is there, unpack what was uploaded or
 * fetched from the head, and serve the head's archives to the other hosts.
 */

/** Where one archive lives on a host: ~/.cms/dist/<id><ext> and its unpacked folder ~/.cms/dist/<id>. */
export interface ArtifactPaths {
  distRoot: string
  distDir: string
  distArchive: string
}

export function artifactPaths(home: string, id: string, ext: ArchiveExt): ArtifactPaths {
  const distRoot = `${home}/.cms/dist`
  return {distRoot, distDir: `${distRoot}/${id}`, distArchive: `${distRoot}/${id}${ext}`}
}

const MARKER = '.cms-complete'

/** Prints `unpacked=0|1 archive=<bytes>` (0 when there is no archive). */
export function distStateScript(l: ArtifactPaths): string {
  return [
    `u=0; [ -f ${shq(`${l.distDir}/${MARKER}`)} ] && u=1`,
    `a=0; [ -f ${shq(l.distArchive)} ] && a=$(wc -c < ${shq(l.distArchive)})`,
    'echo "unpacked=$u archive=$a"',
  ].join('\n')
}

export function parseDistState(output: string): {unpacked: boolean; archiveBytes: number} {
  const m = /unpacked=(\d) archive=\s*(\d+)/.exec(output)
  if (!m) throw new Error(`unexpected answer from the host while checking a distribution: ${output.trim().slice(0, 200)}`)
  return {unpacked: m[1] === '1', archiveBytes: Number(m[2])}
}

function extract(source: string, ext: ArchiveExt): string[] {
  if (ext === '.zip') {
    // Zip needs a seekable file; python3's zipfile stands in for a missing unzip (it drops modes: see chmod below).
    return [
      `${source} > "$tmp.zip"`,
      'if command -v unzip >/dev/null 2>&1; then unzip -q "$tmp.zip" -d "$tmp"; else python3 -m zipfile -e "$tmp.zip" "$tmp"; fi',
      'rm -f "$tmp.zip"',
    ]
  }
  return [`${source} | tar ${ext === '.tar' ? '-xf -' : '-xzf -'} -C "$tmp"`]
}

/**
 * Unpacks an archive streamed in by `source` (a shell pipeline writing it to stdout) into a fresh folder, checks
 * that it holds `probe`, records the root (the folder `probe` is relative to) and moves it into place.
 */
export function unpackScript(l: ArtifactPaths, source: string, ext: ArchiveExt, probe: string, what: string): string {
  return [
    'set -e',
    `if [ -f ${shq(`${l.distDir}/${MARKER}`)} ]; then exit 0; fi`,
    `mkdir -p ${shq(l.distRoot)}`,
    `tmp=${shq(l.distDir)}.tmp.$$`,
    `trap 'rm -rf "$tmp" "$tmp.zip"' EXIT`,
    'mkdir -p "$tmp"',
    ...extract(source, ext),
    `p=$(cd "$tmp" && find . -maxdepth 4 -type f -path ${shq(`*/${probe}`)} | head -n 1)`,
    `[ -n "$p" ] || { echo ${shq(`the ${what} distribution has no ${probe}`)} >&2; exit 3; }`,
    'chmod u+rwx,go+rx "$tmp/$p"',
    `root=\${p%/${probe}}; root=\${root#.}; root=\${root#/}`,
    `printf '%s\\n' "$root" > "$tmp/${MARKER}"`,
    `rm -rf ${shq(l.distDir)}`,
    `mv "$tmp" ${shq(l.distDir)}`,
    'trap - EXIT',
  ].join('\n')
}

export function unpackUploadedScript(l: ArtifactPaths, ext: ArchiveExt, probe: string, what: string): string {
  return unpackScript(l, `cat ${shq(l.distArchive)}`, ext, probe, what)
}

/** Unpacks the archive arriving on the command's stdin (streamed from the client: no copy of it is kept). */
export function unpackStreamedScript(l: ArtifactPaths, ext: ArchiveExt, probe: string, what: string): string {
  return unpackScript(l, 'cat', ext, probe, what)
}

export function unpackFromHeadScript(l: ArtifactPaths, url: string, ext: ArchiveExt, probe: string, what: string): string {
  return unpackScript(l, `curl -fsS --retry 3 ${shq(url)}`, ext, probe, what)
}

/** The unpacked archive's root folder (SPARK_HOME for Spark, the folder holding `nomad` for Nomad). */
export function artifactRootScript(l: ArtifactPaths): string {
  return `r=$(head -n 1 ${shq(`${l.distDir}/${MARKER}`)}); if [ -n "$r" ]; then printf '%s/%s' ${shq(l.distDir)} "$r"; else printf '%s' ${shq(l.distDir)}; fi`
}

/**
 * A one-off HTTP server on the head's private address that lets other hosts fetch archives from the head
 * instead of from the client; it serves the dist folder only, exits after `ttlSeconds`, prints its port.
 */
export function serveDistScript(distRoot: string, bindAddress: string, ttlSeconds: number): string {
  const server = [
    'import http.server, sys',
    'class Quiet(http.server.SimpleHTTPRequestHandler):',
    '    def log_message(self, *args): pass',
    's = http.server.ThreadingHTTPServer((sys.argv[1], 0), Quiet)',
    'print(s.server_address[1], flush=True)',
    's.serve_forever()',
  ].join('\n')
  return [
    'set -e',
    `cd ${shq(distRoot)}`,
    `port_file=${shq(`${distRoot}/.serve-port.$$`)}`,
    `nohup timeout ${ttlSeconds} python3 -c ${shq(server)} ${shq(bindAddress)} > "$port_file" 2>/dev/null < /dev/null &`,
    'pid=$!',
    'for _ in $(seq 1 50); do [ -s "$port_file" ] && break; sleep 0.1; done',
    '[ -s "$port_file" ] || { echo "the distribution server on the head did not start" >&2; kill "$pid" 2>/dev/null; exit 4; }',
    'printf "pid=%s port=%s\\n" "$pid" "$(head -n 1 "$port_file")"',
    'rm -f "$port_file"',
  ].join('\n')
}

export function stopServerScript(pid: number): string {
  return `kill ${Number(pid)} 2>/dev/null || true`
}
