import {basename} from 'node:path'
import {loadEach, loadJobFile, readLocalFile, type JobOverrides} from '../../jobs/load.js'
import type {JobSpec} from '../../jobs/spec.js'
import {checkHostVolumes} from '../../jobs/volumes.js'
import {UsageError} from '../../remote/errors.js'
import type {LoadedJob} from '../engine.js'
import {hclVariables} from './api.js'

/** A jobfile as Nomad takes it: HCL (parsed by Nomad itself), a JSON jobspec, or a portable spec cms translates. */
export type NomadJobFile =
  | (LoadedJob & {kind: 'hcl'; hcl: string; variables: string})
  | (LoadedJob & {kind: 'json'; job: Record<string, unknown>})
  | (LoadedJob & {kind: 'spec'; spec: JobSpec})

const HCL_EXT = /\.(hcl|nomad)$/i
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/

/**
 * HCL2 input variables for Nomad's parser, as the content of one variables file: the --var-file contents, then
 * each --var k=v as a string assignment (Nomad converts it to the variable's declared type), so --var wins.
 */
export function variablesText(vars: readonly string[] = [], varFiles: readonly string[] = []): string {
  const parts = varFiles.map((f) => readLocalFile(f, 'variable file'))
  const assigned: Record<string, string> = {}
  for (const kv of vars) {
    const eq = kv.indexOf('=')
    const name = eq > 0 ? kv.slice(0, eq).trim() : ''
    if (!VAR_NAME.test(name)) throw new UsageError(`--var ${JSON.stringify(kv)}: expected NAME=VALUE, e.g. --var count=3`)
    assigned[name] = kv.slice(eq + 1)
  }
  return [...parts, hclVariables(assigned)].join('\n')
}

/** A JSON file holding a Nomad job (`{"Job": {...}}` as `nomad job run -json` takes, or the job itself). */
export function nomadJsonJob(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const v = value as Record<string, unknown>
  const job = typeof v.Job === 'object' && v.Job !== null ? (v.Job as Record<string, unknown>) : v
  return Array.isArray(job.TaskGroups) && (typeof job.ID === 'string' || typeof job.Name === 'string') ? job : undefined
}

/** Checks every file locally; one UsageError naming every bad file, so a batch is all-or-nothing. */
export function loadNomadJobFiles(files: readonly string[], overrides: JobOverrides): NomadJobFile[] {
  const specOverrides = overrides.mainClass !== undefined || (overrides.conf?.length ?? 0) > 0 || overrides.args !== undefined
  return loadEach(files, (file): NomadJobFile => {
    if (HCL_EXT.test(file)) {
      if (specOverrides) throw new UsageError(`${file}: --class, --conf and -- ARGS are for job specs; set an HCL job's values with --var`)
      const hcl = readLocalFile(file, 'jobfile')
      return {kind: 'hcl', file, name: basename(file).replace(HCL_EXT, ''), hcl, variables: variablesText(overrides.vars, overrides.varFiles)}
    }
    if (/\.json$/i.test(file)) {
      let parsed: unknown
      try {
        parsed = JSON.parse(readLocalFile(file, 'jobfile'))
      } catch (error) {
        if (error instanceof UsageError) throw error
        throw new UsageError(`${file}: invalid JSON: ${(error as Error).message}`)
      }
      const job = nomadJsonJob(parsed)
      if (job) {
        if (specOverrides || overrides.vars?.length || overrides.varFiles?.length) throw new UsageError(`${file}: a Nomad JSON jobspec takes no --class, --conf, --var or -- ARGS`)
        return {kind: 'json', file, name: String(job.ID ?? job.Name), job}
      }
    }
    if (overrides.vars?.length || overrides.varFiles?.length) throw new UsageError(`${file}: --var and --var-file are for HCL jobfiles`)
    const spec = loadJobFile(file, overrides)
    checkHostVolumes(spec, 'Nomad')
    return {kind: 'spec', file, name: spec.name, spec}
  })
}
