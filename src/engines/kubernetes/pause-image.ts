import {shq} from '../../remote/shell.js'
import {checkAbsolutePath} from './names.js'

/**
 * Images cms makes on a node from one static binary, because nothing can be pulled. Every pod's sandbox runs the
 * pause image, made from a binary already there (Debian's catatonit, whose -P pause mode is what a pause container
 * does: sleep as PID 1, reap, exit on a signal); CoreDNS's image is made the same way from the binary cms ships.
 * Each is a one-layer Docker image archive packed with only tar and sha256sum and imported into cms's containerd
 * (namespace k8s.io, where the CRI plugin looks). Idempotent: an image already there is kept.
 */

export const PAUSE_IMAGE = 'cms.local/pause:catatonit'

export interface BinaryImageInput {
  /** A static binary on the node: the image's only file, /NAME. */
  binary: string
  /** The file's name in the image (its entrypoint). */
  name: string
  /** A folder of the image the file goes in (`bin` for /bin/sh); the root when absent. */
  dir?: string
  /** Arguments after the entrypoint. */
  args?: string[]
  /** The image reference, as pods and containerd's sandbox_image name it. */
  ref: string
  /** UID:GID the container runs as. */
  user?: string
  /** containerd's socket. */
  socket: string
  ctr?: string
}

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
  // The upstream pause image runs as 65535.
  return importBinaryImageScript({
    binary: input.binary ?? '/usr/bin/catatonit',
    name: 'pause',
    args: input.args ?? ['-P'],
    ref: input.ref ?? PAUSE_IMAGE,
    user: '65535:65535',
    socket: input.socket,
    ctr: input.ctr,
  })
}

/**
 * Makes a one-layer image of a static binary on the node (a Docker image archive built with tar and sha256sum:
 * /NAME, entrypoint [/NAME, ...args], no environment) and imports it into cms's containerd, namespace k8s.io.
 * Prints `present` when the image is already there, else `imported`.
 */
export function importBinaryImageScript(input: BinaryImageInput): string {
  const binary = checkAbsolutePath(`the ${input.name} binary`, input.binary)
  const socket = checkAbsolutePath("containerd's socket", input.socket)
  if (!/^[a-z][a-z0-9_-]{0,30}$/.test(input.name)) throw new Error(`not an image file name: ${JSON.stringify(input.name)}`)
  if (input.dir !== undefined && !/^[a-z][a-z0-9_-]{0,30}$/.test(input.dir)) throw new Error(`not an image folder name: ${JSON.stringify(input.dir)}`)
  const file = input.dir ? `${input.dir}/${input.name}` : input.name
  const top = input.dir ?? input.name
  const ctr = input.ctr ?? 'ctr'
  const ref = input.ref
  if (!/^[a-z0-9.-]+(\/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(ref)) throw new Error(`not an image reference: ${JSON.stringify(ref)}`)
  const user = input.user ?? '65532:65532'
  if (!/^\d{1,10}:\d{1,10}$/.test(user)) throw new Error(`the image user must be UID:GID, not ${JSON.stringify(user)}`)
  const args = input.args ?? []
  for (const a of args) if (/["\\\u0000-\u001f]/.test(a)) throw new Error(`an image argument cannot hold quotes, backslashes or control characters: ${JSON.stringify(a)}`)
  const entrypoint = JSON.stringify([`/${file}`, ...args])
  const c = `${shq(ctr)} --address ${shq(socket)} -n k8s.io`
  return [
    'set -eu',
    `if ${c} images ls -q | grep -qxF ${shq(ref)}; then echo present; exit 0; fi`,
    `[ -x ${shq(binary)} ] || { echo ${shq(`no ${input.name} binary at ${binary}${input.name === 'pause' ? ' (Debian package catatonit)' : ''}`)} >&2; exit 3; }`,
    'work=$(mktemp -d)',
    'trap \'rm -rf "$work"\' EXIT',
    `mkdir -p "$work/rootfs${input.dir ? `/${input.dir}` : ''}" "$work/image"`,
    `cp ${shq(binary)} "$work/rootfs/${file}"`,
    `chmod 0755 "$work/rootfs/${file}"`,
    `tar -C "$work/rootfs" --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -cf "$work/layer.tar" ${top}`,
    'diff=$(sha256sum "$work/layer.tar" | cut -d" " -f1)',
    'mkdir -p "$work/image/$diff"',
    'mv "$work/layer.tar" "$work/image/$diff/layer.tar"',
    'case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac',
    `printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":%s,"User":"%s"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$arch" ${shq(entrypoint)} ${shq(user)} "$diff" > "$work/config.json"`,
    'cfg=$(sha256sum "$work/config.json" | cut -d" " -f1)',
    'mv "$work/config.json" "$work/image/$cfg.json"',
    `printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg" ${shq(ref)} "$diff" > "$work/image/manifest.json"`,
    'tar -C "$work/image" --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -cf "$work/image.tar" .',
    `${c} images import "$work/image.tar" >/dev/null`,
    `${c} images ls -q | grep -qxF ${shq(ref)} || { echo ${shq(`containerd did not list ${ref} after the import`)} >&2; exit 4; }`,
    'echo imported',
  ].join('\n')
}
