import {shq} from '../../remote/shell.js'
import {checkAbsolutePath} from './names.js'

/**
 * Every pod's sandbox runs a pause image, and nothing can be pulled: cms makes one on the node from a static
 * binary already there (Debian's catatonit, whose -P pause mode is what a pause container does: sleep as PID 1,
 * reap, exit on a signal), packed as a one-layer Docker image archive with only tar and sha256sum, and imports it
 * into cms's containerd (namespace k8s.io, where the CRI plugin looks). Idempotent: an image already there is kept.
 */

export const PAUSE_IMAGE = 'cms.local/pause:catatonit'

export interface PauseImageInput {
  /** A static binary on the node that pauses (catatonit). */
  binary?: string
  /** Its arguments (catatonit: -P). */
  args?: string[]
  /** The image reference containerd's sandbox_image names. */
  ref?: string
  /** containerd's socket. */
  socket: string
  ctr?: string
}

export function importPauseImageScript(input: PauseImageInput): string {
  const binary = checkAbsolutePath('the pause binary', input.binary ?? '/usr/bin/catatonit')
  const socket = checkAbsolutePath("containerd's socket", input.socket)
  const ctr = input.ctr ?? 'ctr'
  const ref = input.ref ?? PAUSE_IMAGE
  if (!/^[a-z0-9.-]+(\/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(ref)) throw new Error(`not an image reference: ${JSON.stringify(ref)}`)
  const args = input.args ?? ['-P']
  for (const a of args) if (/["\\\u0000-\u001f]/.test(a)) throw new Error(`a pause argument cannot hold quotes, backslashes or control characters: ${JSON.stringify(a)}`)
  const entrypoint = JSON.stringify(['/pause', ...args])
  const c = `${shq(ctr)} --address ${shq(socket)} -n k8s.io`
  return [
    'set -eu',
    `if ${c} images ls -q | grep -qxF ${shq(ref)}; then echo present; exit 0; fi`,
    `[ -x ${shq(binary)} ] || { echo "no pause binary at ${binary.replace(/[`"$\\]/g, '')} (Debian package catatonit)" >&2; exit 3; }`,
    'work=$(mktemp -d)',
    'trap \'rm -rf "$work"\' EXIT',
    'mkdir -p "$work/rootfs" "$work/image"',
    `cp ${shq(binary)} "$work/rootfs/pause"`,
    'chmod 0755 "$work/rootfs/pause"',
    'tar -C "$work/rootfs" --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -cf "$work/layer.tar" pause',
    'diff=$(sha256sum "$work/layer.tar" | cut -d" " -f1)',
    'mkdir -p "$work/image/$diff"',
    'mv "$work/layer.tar" "$work/image/$diff/layer.tar"',
    'case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac',
    // The upstream pause image runs as 65535, with no environment or working directory of its own.
    `printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":%s,"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$arch" ${shq(entrypoint)} "$diff" > "$work/config.json"`,
    'cfg=$(sha256sum "$work/config.json" | cut -d" " -f1)',
    'mv "$work/config.json" "$work/image/$cfg.json"',
    `printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg" ${shq(ref)} "$diff" > "$work/image/manifest.json"`,
    'tar -C "$work/image" --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -cf "$work/pause.tar" .',
    `${c} images import "$work/pause.tar" >/dev/null`,
    `${c} images ls -q | grep -qxF ${shq(ref)} || { echo "containerd did not list ${ref} after the import" >&2; exit 4; }`,
    'echo imported',
  ].join('\n')
}
