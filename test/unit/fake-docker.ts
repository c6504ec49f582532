import {execFileSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type Dockerode from 'dockerode'

/** A stand-in for dockerode: images by tag, a build that records its context and options and "creates" the image. */
export function fakeDocker(dir: string) {
  const images = new Map<string, {Id: string; Size: number; Config: {Labels: Record<string, string>}}>([['debian:bookworm-slim', {Id: 'sha256:base', Size: 1, Config: {Labels: {}}}]])
  const builds: Array<{entries: string[]; opts: Record<string, unknown>}> = []
  const docker = {
    getImage: (tag: string) => ({
      inspect: async () => {
        const found = images.get(tag)
        if (!found) throw Object.assign(new Error('no such image'), {statusCode: 404})
        return found
      },
    }),
    buildImage: async (context: NodeJS.ReadableStream, opts: Record<string, unknown>) => {
      const chunks: Buffer[] = []
      for await (const c of context) chunks.push(c as Buffer)
      const tar = join(dir, `context-${builds.length}.tar`)
      writeFileSync(tar, Buffer.concat(chunks))
      builds.push({entries: execFileSync('tar', ['-tf', tar], {encoding: 'utf8'}).trim().split('\n'), opts})
      images.set(opts.t as string, {Id: `sha256:built${builds.length}`, Size: 123, Config: {Labels: opts.labels as Record<string, string>}})
      return 'stream'
    },
    modem: {followProgress: (_s: unknown, done: (e: Error | null, events: unknown[]) => void) => done(null, [{stream: 'Step 1/9 : FROM x'}])},
  }
  return {docker: docker as unknown as Dockerode, builds}
}

