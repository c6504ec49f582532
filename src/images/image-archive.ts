import {createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'
import type Dockerode from 'dockerode'
import {UsageError} from '../remote/errors.js'
import {checkImageReference, dockerClient} from './image-build.js'

/**
 * Local images as archives for `cms image load`: `docker save` of one NAME:TAG, kept in a cache named by the image
 * id (the same image is saved once), and pushes to a registry for `--push`.
 */

export function imageCacheDir(): string {
  return process.env.CMS_IMAGE_CACHE || join(homedir(), '.cache', 'cms', 'images')
}

/** NAME:TAG (":latest" when no tag is given): what pods name; an id or a digest names no image pods can use. */
export function taggedReference(ref: string): string {
  if (/^(sha256:)?[0-9a-f]{12,64}$/.test(ref) || ref.includes('@')) throw new UsageError(`name the image by NAME:TAG, not ${JSON.stringify(ref)} (pods refer to images by name)`)
  checkImageReference(ref)
  return ref.lastIndexOf(':') > ref.lastIndexOf('/') ? ref : `${ref}:latest`
}

export interface ImageArchive {
  ref: string
  /** sha256:... */
  id: string
  path: string
  bytes: number
  /** false: the archive was in the cache already. */
  saved: boolean
}

function slug(ref: string): string {
  return ref.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100)
}

async function inspectLocal(docker: Dockerode, ref: string): Promise<{Id: string}> {
  return docker
    .getImage(ref)
    .inspect()
    .catch((error: {statusCode?: number; message?: string}) => {
      if (error.statusCode === 404) throw new UsageError(`image ${ref} is not in the local Docker engine (see 'docker images'; 'cms image build spark' and 'cms image build hadoop' build cms's images)`)
      throw error
    })
}

/** `docker save REF` into the cache (once per image id); older archives of the same reference are removed. */
export async function saveImageArchive(ref: string, log: (line: string) => void, docker?: Dockerode): Promise<ImageArchive> {
  const d = docker ?? (await dockerClient())
  const image = await inspectLocal(d, ref)
  const dir = imageCacheDir()
  const name = `${slug(ref)}-${image.Id.replace(/^sha256:/, '').slice(0, 16)}.tar`
  const path = join(dir, name)
  if (existsSync(path)) return {ref, id: image.Id, path, bytes: statSync(path).size, saved: false}
  mkdirSync(dir, {recursive: true})
  log(`Saving ${ref} into ${dir}`)
  const part = `${path}.part.${process.pid}`
  try {
    await pipeline((await d.getImage(ref).get()) as NodeJS.ReadableStream, createWriteStream(part, {mode: 0o600}))
    renameSync(part, path)
  } finally {
    rmSync(part, {force: true})
  }
  for (const other of readdirSync(dir)) if (other !== name && other.startsWith(`${slug(ref)}-`) && /-[0-9a-f]{16}\.tar$/.test(other)) rmSync(join(dir, other), {force: true})
  return {ref, id: image.Id, path, bytes: statSync(path).size, saved: true}
}

/** host[:port] of a registry. */
export function checkRegistry(registry: string): string {
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/.test(registry)) throw new UsageError(`invalid registry ${JSON.stringify(registry)}: expected HOST[:PORT], like registry.example.org or 127.0.0.1:5000`)
  return registry
}

/** The reference an image gets in `registry`: its own registry part (if any) replaced. */
export function registryReference(ref: string, registry: string): string {
  const first = ref.split('/')[0]!
  const hasRegistry = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')
  return `${registry}/${hasRegistry ? ref.slice(first.length + 1) : ref}`
}

/** Tags REF as REGISTRY/NAME:TAG and pushes it with the local Docker engine; returns the pushed reference and digest. */
export async function pushImage(ref: string, registry: string, log: (line: string) => void, docker?: Dockerode): Promise<{pushed: string; id: string; digest?: string}> {
  const d = docker ?? (await dockerClient())
  const image = await inspectLocal(d, ref)
  const target = registryReference(ref, checkRegistry(registry))
  const colon = target.lastIndexOf(':')
  await d.getImage(ref).tag({repo: target.slice(0, colon), tag: target.slice(colon + 1)})
  log(`Pushing ${target}`)
  // The Docker API wants an X-Registry-Auth header even for a registry without authentication; credentials a user
  // stored with `docker login` are not read here.
  const stream = await d.getImage(target).push({authconfig: {serveraddress: registry}})
  const events = await new Promise<Array<{error?: string; aux?: {Digest?: string}}>>((resolve, reject) => {
    d.modem.followProgress(stream, (error: Error | null, out: Array<{error?: string; aux?: {Digest?: string}}>) => (error ? reject(error) : resolve(out ?? [])))
  })
  const failed = events.find((e) => e.error)
  if (failed) throw new Error(`pushing ${target} failed: ${failed.error}`)
  return {pushed: target, id: image.Id, digest: events.find((e) => e.aux?.Digest)?.aux?.Digest}
}
