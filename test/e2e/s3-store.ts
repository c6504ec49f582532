import {spawn, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {createServer} from 'node:net'
import {afterAll, beforeAll, expect} from 'vitest'
import {docker} from './helpers.js'
import {motoServerPath} from './aws-emulator.js'

/**
 * A real S3-compatible server for the s3a tests: moto's S3 (the moto venv of scripts/moto.sh), in memory, bound to
 * ONE address: the gateway of the Docker network the test's cluster lives on (cms-NAME, made by the test's `cluster
 * create`). That address is the host's own end of that bridge: the cluster's containers reach it, the test reaches
 * it, and nothing outside the machine does (the bridge is not routed out, no port is published). Loopback would
 * not do: a container's 127.0.0.1 is its own.
 */
export interface S3Store {
  /** http://GATEWAY:PORT, as jobs name it (--s3-endpoint). */
  url: string
  createBucket(bucket: string): Promise<void>
  put(bucket: string, key: string, body: string): Promise<void>
  get(bucket: string, key: string): Promise<string>
  /** The keys under a prefix, from the server's own listing (ListObjectsV2). */
  list(bucket: string, prefix: string): Promise<string[]>
  stop(): Promise<void>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The gateway address of a Docker network (the host's address on that bridge). */
export async function networkGateway(network: string): Promise<string> {
  const gateway = await docker('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', network)
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(gateway)) throw new Error(`network ${network} has no IPv4 gateway (got ${JSON.stringify(gateway)})`)
  return gateway
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/**
 * Starts moto's server on `host` (a free port there). moto checks no signature, but a request without an
 * Authorization header is anonymous and may not read what a signed request wrote: the test's requests carry one.
 */
export async function startS3Store(host: string): Promise<S3Store> {
  const server = await motoServerPath()
  const port = await freePort(host)
  const child: ChildProcess = spawn(server, ['-H', host, '-p', String(port)], {stdio: 'ignore', env: {...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true'}})
  const url = `http://${host}:${port}`
  let up = false
  for (let i = 0; i < 120 && !up; i++) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`)
    up = await fetch(`${url}/moto-api/`, {signal: AbortSignal.timeout(2000)}).then((r) => r.ok, () => false)
    if (!up) await sleep(250)
  }
  if (!up) {
    child.kill('SIGKILL')
    throw new Error(`moto_server did not answer on ${url} within 30 s`)
  }
  const call = async (method: string, path: string, body?: string): Promise<string> => {
    const authorization = 'AWS4-HMAC-SHA256 Credential=cms-e2e-reader/20261204/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0'
    const r = await fetch(`${url}${path}`, {method, body, headers: {authorization}, signal: AbortSignal.timeout(10_000)})
    const text = await r.text()
    if (!r.ok) throw new Error(`S3 ${method} ${path}: HTTP ${r.status} ${text.slice(0, 200)}`)
    return text
  }
  return {
    url,
    createBucket: async (bucket) => void (await call('PUT', `/${bucket}`)),
    put: async (bucket, key, body) => void (await call('PUT', `/${bucket}/${key}`, body)),
    get: (bucket, key) => call('GET', `/${bucket}/${key}`),
    list: async (bucket, prefix) => {
      const xml = await call('GET', `/${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`)
      return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!)
    },
    stop: async () => {
      child.kill('SIGTERM')
      for (let i = 0; i < 40 && child.exitCode === null && child.signalCode === null; i++) await sleep(100)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    },
  }
}

/** Credentials of one test run only (distinctive, so any copy of them anywhere can be found), and the check for them. */
export interface S3TestCredentials {
  /** cms's environment: these credentials, no profile, no shared files, no instance metadata. */
  env: Record<string, string>
  /** Fails the test when a credential (or its base64, as a Kubernetes Secret would hold it) is in the text. */
  expectNoSecret(text: string, where: string): void
  values: string[]
}

export function s3TestCredentials(home: string, opts: {sessionToken?: boolean} = {}): S3TestCredentials {
  const secrets: Record<string, string> = {
    AWS_ACCESS_KEY_ID: `CMSE2E${randomBytes(7).toString('hex').toUpperCase()}`,
    AWS_SECRET_ACCESS_KEY: randomBytes(30).toString('base64'),
    ...(opts.sessionToken ? {AWS_SESSION_TOKEN: `cmse2etoken${randomBytes(24).toString('base64')}`} : {}),
  }
  const values = Object.values(secrets)
  return {
    env: {
      CMS_HOME: home,
      AWS_SESSION_TOKEN: '',
      ...secrets,
      AWS_PROFILE: '',
      AWS_CONFIG_FILE: '/nonexistent/cms-e2e-aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/cms-e2e-aws-credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    values,
    expectNoSecret(text, where) {
      for (const v of values) {
        expect(text.includes(v), `a credential appears in ${where}`).toBe(false)
        expect(text.includes(Buffer.from(v).toString('base64')), `a base64 credential appears in ${where}`).toBe(false)
      }
    },
  }
}

/** The bucket of the s3a cases and the input they count words of. */
export const S3_BUCKET = 'cms-e2e'

/**
 * A store for the cases of one describe block: started before them on the gateway of the cluster's network, with the
 * bucket and its input (in/words.txt: 8 distinct words), stopped after them.
 */
export function s3StoreForCases(cluster: string): () => S3Store {
  let store: S3Store | undefined
  beforeAll(async () => {
    store = await startS3Store(await networkGateway(`cms-${cluster}`))
    await store.createBucket(S3_BUCKET)
    await store.put(S3_BUCKET, 'in/words.txt', 'to be or not to be\nthat is the question\n')
  })
  afterAll(async () => {
    await store?.stop()
  })
  return () => store!
}

/** What the word count fixture (s3_wordcount.py) reports, and its output as the store itself lists it. */
export async function expectWordCountOutput(store: S3Store, logs: string, prefix = 'out/wordcount'): Promise<string[]> {
  expect(logs).toContain(`read back 8 words from s3a://${S3_BUCKET}/${prefix}`)
  const keys = await store.list(S3_BUCKET, `${prefix}/`)
  expect(keys).toContain(`${prefix}/_SUCCESS`)
  expect(keys.some((k) => /\/part-00000/.test(k)), keys.join(', ')).toBe(true)
  return keys
}
