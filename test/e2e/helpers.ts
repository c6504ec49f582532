import {execFile, execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

const run = promisify(execFile)
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BIN = join(ROOT, 'bin', 'run.js')

export interface CmsResult {
  code: number
  stdout: string
  stderr: string
}

/** A private CMS_HOME per test file: access files, keys and known_hosts of that test only. */
export function makeCmsHome(): {home: string; cleanup: () => void} {
  const home = mkdtempSync(join(tmpdir(), 'cms-e2e-'))
  return {home, cleanup: () => rmSync(home, {recursive: true, force: true})}
}

export function cms(args: string[], env: Record<string, string>, opts: {timeoutMs?: number} = {}): Promise<CmsResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code: code ?? -1, stdout, stderr})
    })
  })
}

export function startCms(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const done = new Promise<CmsResult>((resolve) => child.on('close', (code) => resolve({code: code ?? -1, stdout, stderr})))
  return {child, done}
}

export async function docker(...args: string[]): Promise<string> {
  const {stdout} = await run('docker', args, {maxBuffer: 64 << 20})
  return stdout.trim()
}

/**
 * The containers and networks of the clusters a command names (-n/--name): what it could have made. Other e2e files
 * run at the same time (scripts/test.sh's lanes), so a check that a command made nothing looks only there.
 */
export async function madeForNamesIn(args: readonly string[]): Promise<string> {
  const names = args.flatMap((a, i) => (a === '-n' || a === '--name') && args[i + 1] !== undefined ? [args[i + 1]!] : [])
  const out: string[] = []
  for (const name of names) {
    out.push(await docker('ps', '-aq', '--filter', `label=cms.cluster=${name}`), await docker('network', 'ls', '-q', '--filter', `label=cms.cluster=${name}`))
  }
  return out.join('\n')
}

export async function labelledContainers(cluster: string): Promise<Array<{name: string; role: string; state: string; ip: string}>> {
  const ids = (await docker('ps', '-aq', '--filter', `label=cms.cluster=${cluster}`)).split('\n').filter(Boolean)
  if (ids.length === 0) return []
  const inspected = JSON.parse(await docker('inspect', ...ids)) as Array<{
    Name: string
    Config: {Labels: Record<string, string>}
    State: {Status: string}
    NetworkSettings: {Networks: Record<string, {IPAddress: string}>}
  }>
  return inspected.map((c) => ({
    name: c.Name.replace(/^\//, ''),
    role: c.Config.Labels['cms.role'],
    state: c.State.Status,
    ip: Object.values(c.NetworkSettings.Networks)[0]?.IPAddress ?? '',
  }))
}

export interface MasterJson {
  status: string
  aliveworkers: number
  workers: Array<{host: string; state: string; cores: number; memory: number}>
}

/** The Spark master's own status page, read straight from the head container (a host this test created). */
export async function masterJson(headIp: string): Promise<MasterJson> {
  const res = await fetch(`http://${headIp}:8080/json/`, {signal: AbortSignal.timeout(10_000)})
  return (await res.json()) as MasterJson
}

export function aliveWorkers(m: MasterJson): string[] {
  return m.workers.filter((w) => w.state === 'ALIVE').map((w) => w.host).sort()
}

/** Waits (bounded) until the master reports `count` alive workers; Spark drops dead workers after a heartbeat timeout. */
export async function waitForAliveWorkers(headIp: string, count: number, timeoutMs = 90_000): Promise<MasterJson> {
  const deadline = Date.now() + timeoutMs
  let last: MasterJson | undefined
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    last = await masterJson(headIp).catch(() => undefined)
    if (last && last.aliveworkers === count) return last
    await new Promise((r) => setTimeout(r, 1000))
  }
  throw new Error(`master at ${headIp} reports ${last?.aliveworkers} alive workers, expected ${count}`)
}

export async function removeClusterContainers(cluster: string): Promise<void> {
  const ids = (await docker('ps', '-aq', '--filter', `label=cms.cluster=${cluster}`)).split('\n').filter(Boolean)
  if (ids.length > 0) await docker('rm', '-f', ...ids)
  await docker('network', 'rm', `cms-${cluster}`).catch(() => undefined)
}

/**
 * The host image as `BASE:latest`, or images/VARIANT (e.g. k8s-host) built on top of it as `BASE-VARIANT:latest`;
 * Docker's build cache makes a rebuild instant. Returns the tag to run.
 */
export async function buildHostImage(base: string, variant?: string): Promise<string> {
  const hostImage = `${base}:latest`
  await docker('build', '-q', '-t', hostImage, join(ROOT, 'images', 'host'))
  if (!variant) return hostImage
  const image = `${base}-${variant}:latest`
  await docker('build', '-q', '-t', image, '--build-arg', `HOST_IMAGE=${hostImage}`, join(ROOT, 'images', variant))
  return image
}

/**
 * Container hosts cms did not make, addressed as plain SSH hosts: built from the host image (or from
 * images/IMAGEVARIANT on top of it, e.g. k8s-host), on a network of their own, labelled `prefix`, authorising a fresh
 * key of the test's (written to `key`). `cleanup` removes them (and their anonymous volumes) by label.
 */
export async function startPlainHosts(prefix: string, count: number, key: string, runFlags: string[] = [], opts: {imageVariant?: string} = {}) {
  const {execFileSync} = await import('node:child_process')
  const {readFileSync} = await import('node:fs')
  const network = `${prefix}-net`
  const cleanup = async () => {
    const ids = (await docker('ps', '-aq', '--filter', `label=${prefix}`)).split('\n').filter(Boolean)
    if (ids.length > 0) await docker('rm', '-f', '-v', ...ids)
    await docker('network', 'rm', network).catch(() => undefined)
  }
  await cleanup()
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key])
  const image = await buildHostImage('cms-e2e-sshhost', opts.imageVariant)
  await docker('network', 'create', '--label', prefix, network)
  const pub = readFileSync(`${key}.pub`, 'utf8').trim()
  const names = Array.from({length: count}, (_, i) => `${prefix}-${i + 1}`)
  const ips: string[] = []
  for (const name of names) {
    await docker('run', '-d', '--name', name, '--label', prefix, '--network', network, ...runFlags, '-e', `CMS_AUTHORIZED_KEY=${pub}`, image)
    ips.push(await docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name))
  }
  return {names, ips, cleanup}
}

/** Polls `check` once a second (at most 600 times) until it holds or `timeoutMs` passes. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let i = 0; i < 600 && Date.now() < deadline; i++) {
    if (await check().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 1000))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/**
 * A pod image with no registry: Debian's static busybox in a scratch image (sh, nc, httpd, ...; its wget crashes
 * there), built with the local Docker engine under `tag` (the build steps are the same for every test, so cached).
 */
export async function buildBusyboxImage(tag: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cms-e2e-busybox-'))
  try {
    writeFileSync(
      join(dir, 'Dockerfile'),
      [
        'FROM debian:bookworm-slim AS bb',
        'RUN apt-get update && apt-get install -y --no-install-recommends busybox-static && mkdir -p /out/bin /out/tmp && cp /bin/busybox /out/bin/ && for c in sh cat echo sleep nc hostname httpd nslookup tail printf; do ln -s busybox /out/bin/$c; done',
        'FROM scratch',
        'COPY --from=bb /out/ /',
        'ENV PATH=/bin',
      ].join('\n'),
    )
    await docker('build', '-q', '-t', tag, dir)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

const JOB_FIXTURES = join(ROOT, '.cache', 'e2e-jobs')

/**
 * The Spark runtime's launchers, jars and Python example, extracted once per CMS_SPARK_DIST (its path and size mark
 * the copy): enough for a local spark-submit in cluster deploy mode and to compile jobs against.
 */
export function sparkRuntimeHome(): string {
  const dist = process.env.CMS_SPARK_DIST
  if (!dist) throw new Error('CMS_SPARK_DIST is not set: run through scripts/test.sh')
  const runtime = join(JOB_FIXTURES, 'runtime')
  const mark = `${dist} ${statSync(dist).size} bin+jars`
  const ready = () => existsSync(join(runtime, '.done')) && readFileSync(join(runtime, '.done'), 'utf8') === mark
  if (!ready()) {
    // Both lanes of scripts/test.sh may get here at once: each extracts into a folder of its own and renames it into
    // place; the first rename wins (a rename onto a folder that is not empty fails) and the other copy is dropped.
    const own = `${runtime}.${process.pid}`
    rmSync(own, {recursive: true, force: true})
    mkdirSync(own, {recursive: true})
    execFileSync('tar', ['-xzf', dist, '-C', own, '--wildcards', '*/bin/*', '*/jars/*', '*/examples/src/main/python/pi.py'])
    writeFileSync(join(own, '.done'), mark)
    if (existsSync(runtime) && !ready()) rmSync(runtime, {recursive: true, force: true}) // a copy of another runtime
    try {
      renameSync(own, runtime)
    } catch {
      rmSync(own, {recursive: true, force: true})
    }
  }
  return join(runtime, readdirSync(runtime).find((d) => d.startsWith('spark-'))!)
}

/** test/e2e/fixtures/CLASS.java compiled against the runtime's own jars, as a jar (built once per runtime). */
export function fixtureJar(className: string): string {
  const home = sparkRuntimeHome()
  const jar = join(JOB_FIXTURES, `${className}.jar`)
  if (!existsSync(jar) || statSync(jar).mtimeMs < statSync(join(home, '..', '.done')).mtimeMs) {
    // Built in folders of this process's own and renamed into place: the other lane may be building it too.
    const classes = join(JOB_FIXTURES, `classes-${className}.${process.pid}`)
    rmSync(classes, {recursive: true, force: true})
    mkdirSync(classes, {recursive: true})
    execFileSync('javac', ['-d', classes, '-cp', `${join(home, 'jars')}/*`, join(ROOT, 'test', 'e2e', 'fixtures', `${className}.java`)])
    execFileSync('jar', ['cf', `${jar}.${process.pid}`, '-C', classes, '.'])
    renameSync(`${jar}.${process.pid}`, jar)
    rmSync(classes, {recursive: true, force: true})
  }
  return jar
}

/** The Spark runtime's Python example and the test job (CmsE2eJob) compiled against its jars. */
export function sparkJobFixtures(): {jar: string; piPy: string} {
  const home = sparkRuntimeHome()
  return {jar: fixtureJar('CmsE2eJob'), piPy: join(home, 'examples', 'src', 'main', 'python', 'pi.py')}
}

/**
 * Runs `script` in a pod of `image` (loaded into the nodes, never pulled) pinned to `node`, waits (bounded) for it to
 * end, and returns what the API server reports of it: its phase, node, host IP and logs.
 */
export async function runPinnedPod(kubectl: (...args: string[]) => Promise<string>, opts: {node: string; image: string; script: string}): Promise<{phase: string; nodeName: string; hostIP: string; logs: string}> {
  const overrides = JSON.stringify({spec: {nodeSelector: {'kubernetes.io/hostname': opts.node}}})
  await kubectl('run', 'hello', `--image=${opts.image}`, '--image-pull-policy=Never', '--restart=Never', `--overrides=${overrides}`, '--command', '--', 'sh', '-c', opts.script)
  let phase = ''
  await waitUntil('the pod to finish', async () => {
    phase = await kubectl('get', 'pod', 'hello', '-o', 'jsonpath={.status.phase}')
    return phase === 'Succeeded' || phase === 'Failed'
  }, 120_000)
  const pod = JSON.parse(await kubectl('get', 'pod', 'hello', '-o', 'json')) as {spec: {nodeName: string}; status: {hostIP: string}}
  return {phase, nodeName: pod.spec.nodeName, hostIP: pod.status.hostIP, logs: await kubectl('logs', 'hello')}
}
