import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, renameSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {localPaths} from '../config/paths.js'
import {UsageError} from '../remote/errors.js'

/** The JupyterLab release cms ships to a cluster's head (with every dependency, from PyPI, once per client). */
export const JUPYTERLAB_VERSION = '4.6.6'

/** The head's Python and machine: the archive's compiled wheels (pyzmq, tornado, ...) are built for them. */
export interface HeadPython {
  /** `3.11`, as the head's python3 reports it. */
  version: string
  /** `uname -m`: x86_64 or aarch64 (the manylinux wheels PyPI has). */
  machine: string
}

const PYTHON_VERSION = /^3\.\d{1,2}$/
const MACHINES = ['x86_64', 'aarch64']

/** The head's answer to HEAD_PYTHON_SCRIPT, checked. */
export function parseHeadPython(output: string): HeadPython {
  const [version = '', machine = ''] = output.trim().split(/\s+/)
  if (!PYTHON_VERSION.test(version)) throw new Error(`unexpected Python version ${JSON.stringify(version)} on the head: JupyterLab needs Python 3`)
  if (!MACHINES.includes(machine)) throw new Error(`cms notebook ships JupyterLab for ${MACHINES.join(' and ')} heads; this head is ${JSON.stringify(machine)}`)
  return {version, machine}
}

/** Prints the head's Python version and machine (`3.11 x86_64`). */
export const HEAD_PYTHON_SCRIPT = `printf '%s %s\\n' "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" "$(uname -m)"`

/** The archive's name in cms's cache: one per JupyterLab release, Python version and machine. */
export function jupyterArchiveName(py: HeadPython): string {
  return `jupyterlab-${JUPYTERLAB_VERSION}-py${py.version}-manylinux-${py.machine}.tgz`
}

/**
 * pip's arguments that put JupyterLab and its dependencies, as wheels built for the head's CPython (not the
 * client's), into `target`: a folder that runs with `PYTHONPATH=target python3 -m jupyterlab` and needs no pip,
 * venv or compiler on the host. Jupyter's data and config files land in target/share/jupyter and target/etc/jupyter.
 */
export function jupyterPipArgs(target: string, py: HeadPython): string[] {
  const {version: pythonVersion} = parseHeadPython(`${py.version} ${py.machine}`)
  const abi = `cp${pythonVersion.replace('.', '')}`
  return [
    '-m', 'pip', 'install',
    '--quiet', '--disable-pip-version-check', '--no-warn-conflicts', '--no-compile', '--isolated',
    '--target', target,
    '--only-binary=:all:',
    '--platform', `manylinux2014_${py.machine}`,
    '--python-version', pythonVersion,
    '--implementation', 'cp',
    '--abi', abi,
    `jupyterlab==${JUPYTERLAB_VERSION}`,
  ]
}

/** tar's arguments for a reproducible archive of `dir` (inside `parent`): the same files give the same bytes. */
export function jupyterTarArgs(parent: string, dir: string, out: string): string[] {
  return ['-C', parent, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-czf', out, dir]
}

function run(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{code: number; output: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, GZIP: '-n', ...env}})
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({code: code ?? 1, output}))
  })
}

/**
 * The JupyterLab archive for the head's Python, from cms's cache (~/.cache/cms/dist, or CMS_DIST_CACHE); on the
 * first use it is built there with this machine's `python3 -m pip` from PyPI (hosts never reach the internet).
 */
export async function jupyterArchive(py: HeadPython, log: (line: string) => void): Promise<string> {
  const cache = localPaths.distCache()
  const path = join(cache, jupyterArchiveName(py))
  if (existsSync(path)) return path
  const pip = await run('python3', ['-m', 'pip', '--version']).catch(() => ({code: 127, output: ''}))
  if (pip.code !== 0) {
    throw new UsageError('cms notebook fetches JupyterLab from PyPI once with this machine\'s pip: install python3 and pip (Debian: python3-pip)')
  }
  mkdirSync(cache, {recursive: true})
  const work = mkdtempSync(join(cache, '.jupyterlab-'))
  try {
    const started = Date.now()
    log(`Fetching JupyterLab ${JUPYTERLAB_VERSION} and its dependencies for Python ${py.version} on ${py.machine} from PyPI into ${cache} (once)`)
    const dir = `jupyterlab-${JUPYTERLAB_VERSION}`
    const installed = await run('python3', jupyterPipArgs(join(work, dir), py), {PIP_NO_INPUT: '1'})
    if (installed.code !== 0) throw new Error(`pip could not fetch JupyterLab ${JUPYTERLAB_VERSION} for Python ${py.version} on ${py.machine}: ${installed.output.trim().split('\n').slice(-5).join(' | ')}`)
    const packed = await run('tar', jupyterTarArgs(work, dir, join(work, 'out.tgz')))
    if (packed.code !== 0) throw new Error(`tar could not pack JupyterLab: ${packed.output.trim()}`)
    renameSync(join(work, 'out.tgz'), path)
    log(`JupyterLab archive ready in ${((Date.now() - started) / 1000).toFixed(0)} s: ${path}`)
    return path
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}
