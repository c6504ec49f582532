/**
 * Loads job specs from the files a user names: a spec (.yaml/.yml/.json) or a bare app (.jar/.py) that CLI
 * flags complete. Everything is validated — schema, then the local files the spec references — before anything is
 * returned, so a bad file means nothing is submitted.
 */
import {readFileSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, isAbsolute, resolve} from 'node:path'
import {isMap, isPair, isScalar, parseDocument, visit} from 'yaml'
import {UsageError} from '../remote/errors.js'
import {SPARK_PROPERTY_RE, appExtension, isUrl, parseJobSpec, type JobSpec} from './spec.js'

/** What the CLI adds to a job file: --class, --conf k=v (repeatable), -- ARGS, and a name. */
export interface JobOverrides {
  mainClass?: string
  /** `k=v` strings, as given to --conf. */
  conf?: string[]
  /** When given (even empty), replaces the spec's args. */
  args?: string[]
  name?: string
  /** Nomad HCL jobfiles: input variables `k=v` (--var, repeatable) and variable files (--var-file). */
  vars?: string[]
  varFiles?: string[]
}

const SPEC_EXT = /\.(ya?ml|json)$/i

/** Parses `--conf k=v` values (split at the first '='); the key must be a Spark property. */
export function parseConfOverrides(conf: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {}
  for (const kv of conf) {
    const eq = kv.indexOf('=')
    if (eq <= 0) throw new UsageError(`--conf ${JSON.stringify(kv)}: expected KEY=VALUE, e.g. --conf spark.executor.memory=2g`)
    const key = kv.slice(0, eq).trim()
    if (!SPARK_PROPERTY_RE.test(key)) throw new UsageError(`--conf ${JSON.stringify(kv)}: keys must be Spark properties like spark.executor.memory`)
    out[key] = kv.slice(eq + 1)
  }
  return out
}

/**
 * Loads one job: a spec file (YAML or JSON) with the overrides on top (--conf merges, args given replace), or a
 * bare .jar/.py (local path or http(s) URL) completed by the overrides. Relative paths in a spec file resolve
 * against the spec file's directory; a bare app's against the working directory. Every local file referenced must
 * exist. Throws UsageError with a one-line message naming the file and the field.
 */
export function loadJobFile(path: string, overrides: JobOverrides = {}): JobSpec {
  const conf = parseConfOverrides(overrides.conf)

  if (appExtension(path) !== undefined) {
    if (!isUrl(path)) statFile(path)
    const raw: Record<string, unknown> = {app: path, args: overrides.args ?? [], conf}
    if (overrides.mainClass !== undefined) raw.mainClass = overrides.mainClass
    if (overrides.name !== undefined) raw.name = overrides.name
    const spec = parseJobSpec(raw, path, {mainClass: '--class'})
    return checkLocalFiles(resolvePaths(spec, process.cwd()), path)
  }

  if (!SPEC_EXT.test(path)) throw new UsageError(`${path}: expected a job spec (.yaml, .yml, .json) or an app (.jar, .py)`)
  if (isUrl(path)) throw new UsageError(`${path}: a job spec must be a local file (only a bare .jar or .py may be a URL)`)
  statFile(path)
  const text = readText(path)
  const doc = /\.json$/i.test(path) ? parseJsonText(text, path) : parseYamlText(text, path)
  if (!isMapping(doc)) return parseJobSpec(doc, path) // not a mapping: throws with a one-line reason
  const raw = dropNulls(doc)
  if (overrides.mainClass !== undefined) raw.mainClass = overrides.mainClass
  if (overrides.name !== undefined) raw.name = overrides.name
  if (overrides.args !== undefined) raw.args = overrides.args
  if (Object.keys(conf).length > 0 && (raw.conf === undefined || isMapping(raw.conf))) raw.conf = {...(isMapping(raw.conf) ? raw.conf : {}), ...conf}
  const spec = parseJobSpec(raw, path, overrides.mainClass !== undefined ? {mainClass: '--class'} : undefined)
  return checkLocalFiles(resolvePaths(spec, dirname(resolve(path))), path)
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Runs `load` on every file; throws one UsageError listing every bad file (one line each) if any is bad, so a batch
 * is all-or-nothing. Every engine's job loader goes through it.
 */
export function loadEach<T>(files: readonly string[], load: (file: string) => T): T[] {
  if (files.length === 0) throw new UsageError('no job file given')
  const loaded: T[] = []
  const errors: string[] = []
  for (const file of files) {
    try {
      loaded.push(load(file))
    } catch (err) {
      if (!(err instanceof UsageError)) throw err
      errors.push(err.message)
    }
  }
  if (errors.length > 0) throw new UsageError([...new Set(errors)].join('\n'))
  return loaded
}

/** Job specs (and bare .jar/.py apps), all-or-nothing. */
export function loadJobFiles(paths: readonly string[], overrides: JobOverrides = {}): JobSpec[] {
  if (overrides.vars?.length || overrides.varFiles?.length) throw new UsageError('--var and --var-file are for Nomad HCL jobfiles; this cluster takes job specs and .jar/.py apps')
  return loadEach(paths, (p) => loadJobFile(p, overrides))
}

// ---- reading and parsing ------------------------------------------------------------------------------------------

/** A local job file's text; missing, unreadable or not a file is a UsageError naming it (`what`: "jobfile"). */
export function readLocalFile(path: string, what?: string): string {
  statFile(path, what)
  return readText(path)
}

function statFile(path: string, what?: string): void {
  let st
  try {
    st = statSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError(`${path}: ${what ? `${what} ` : ''}not found`)
    throw new UsageError(`${path}: cannot read (${code ?? (err as Error).message})`)
  }
  if (!st.isFile()) throw new UsageError(`${path}: not a file`)
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
}

function firstLine(message: string): string {
  const line = message.split('\n').find((l) => l.trim().length > 0)?.trim() ?? message
  return line.replace(/:$/, '')
}

/** Fields whose numbers are kept exactly as written (`3.10` stays "3.10", not "3.1"), since they become strings. */
const STRINGY_FIELDS = new Set(['args', 'conf', 'env'])

/**
 * Parses YAML (1.2 core schema: `2026-11-01` and `yes` stay strings). Unquoted numbers under args/conf/env keep
 * their source text. Throws UsageError `FILE: invalid YAML: <first line of the parser's message>`.
 */
function parseYamlText(text: string, path: string, kind = 'YAML'): unknown {
  const doc = parseDocument(text, {prettyErrors: true})
  const err = doc.errors[0]
  if (err) throw new UsageError(`${path}: invalid ${kind}: ${firstLine(err.message)}`)
  visit(doc, {
    Scalar(_key, node, ancestors) {
      if (typeof node.value !== 'number' || typeof node.source !== 'string') return
      const root = ancestors[1]
      const top = ancestors[2]
      if (!isMap(root) || !isPair(top) || ancestors.length < 4) return
      const field = isScalar(top.key) ? top.key.value : undefined
      if (typeof field === 'string' && STRINGY_FIELDS.has(field)) node.value = node.source
    },
  })
  return doc.toJS({maxAliasCount: 100})
}

/** JSON.parse decides validity; the YAML parser (a JSON superset) then reads it so numbers keep their text too. */
function parseJsonText(text: string, path: string): unknown {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${path}: invalid JSON: ${firstLine((err as Error).message)}`)
  }
  try {
    return parseYamlText(text, path, 'JSON')
  } catch {
    return value
  }
}

/** An empty YAML key (`mainClass:`) means "not set"; nested under driver/executor too. */
function dropNulls(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) {
    if (v === null) continue
    out[k] = (k === 'driver' || k === 'executor') && isMapping(v) ? dropNulls(v) : v
  }
  return out
}

// ---- local files --------------------------------------------------------------------------------------------------

function resolveLocal(p: string, base: string): string {
  if (isUrl(p)) return p
  if (p === '~' || p.startsWith('~/')) return resolve(homedir(), p.slice(2))
  return isAbsolute(p) ? resolve(p) : resolve(base, p)
}

/** Makes every local path absolute (relative to `base`, `~/` to the home directory); URLs are left as they are. */
export function resolvePaths(spec: JobSpec, base: string): JobSpec {
  const r = (p: string) => resolveLocal(p, base)
  return {...spec, app: r(spec.app), jars: spec.jars.map(r), pyFiles: spec.pyFiles.map(r), files: spec.files.map(r)}
}

/** Every local file the spec references must be a readable file; all the missing ones are named in one line. */
function checkLocalFiles(spec: JobSpec, source: string): JobSpec {
  const problems: string[] = []
  const check = (field: string, p: string) => {
    if (isUrl(p)) return
    try {
      if (!statSync(p).isFile()) problems.push(`${field}: ${p} is not a file`)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      problems.push(code === 'ENOENT' || code === 'ENOTDIR' ? `${field}: ${p} not found` : `${field}: ${p} cannot be read (${code})`)
    }
  }
  check('app', spec.app)
  spec.jars.forEach((p, i) => check(`jars[${i}]`, p))
  spec.pyFiles.forEach((p, i) => check(`pyFiles[${i}]`, p))
  spec.files.forEach((p, i) => check(`files[${i}]`, p))
  if (problems.length > 0) throw new UsageError(`${source}: ${problems.join('; ')}`)
  return spec
}
