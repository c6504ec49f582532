import {loadEach, loadJobFile, readLocalFile, type JobOverrides} from '../../jobs/load.js'
import type {JobSpec} from '../../jobs/spec.js'
import {checkKubernetesVolumes} from '../../jobs/volumes.js'
import {UsageError} from '../../remote/errors.js'
import type {LoadedJob} from '../engine.js'
import {describeObject, isManifestText, isWorkload, parseManifest, type ManifestObject} from './manifests.js'

/**
 * A job file as a Kubernetes cluster takes it: a manifest (its objects, applied as they are, with server-side apply)
 * or a portable job spec, which the service translates into objects through the translator it is given.
 */
export type KubernetesJobFile = (LoadedJob & {kind: 'manifest'; objects: ManifestObject[]}) | (LoadedJob & {kind: 'spec'; spec: JobSpec})

const MANIFEST_EXT = /\.(ya?ml|json)$/i

/** One manifest file: its objects, at least one of them a Job or a bare Pod (what cms follows). */
export function loadManifestFile(file: string, text = readLocalFile(file)): KubernetesJobFile {
  const objects = parseManifest(text, file, {json: /\.json$/i.test(file)})
  const workloads = objects.filter((o) => isWorkload(o.object))
  if (workloads.length === 0) {
    throw new UsageError(
      `${file}: ${objects.length === 0 ? 'no Kubernetes object' : 'no Job (batch/v1) or Pod (v1)'}: cms submits Jobs and bare Pods, with the objects they need; apply anything else with kubectl (cms cluster kubeconfig)`,
    )
  }
  const seen = new Set<string>()
  for (const o of objects) {
    const key = `${o.object.apiVersion} ${describeObject(o.object)}`
    if (seen.has(key)) throw new UsageError(`${file}: ${o.where}: ${describeObject(o.object)} appears twice in the file`)
    seen.add(key)
  }
  return {kind: 'manifest', file, name: workloads[0]!.object.metadata.name, objects}
}

/**
 * Checks every file locally; one UsageError naming every bad file, so a batch is all-or-nothing. A .yaml/.yml/.json
 * file whose first document has apiVersion or kind is a manifest; anything else is a job spec (or a bare .jar/.py).
 */
export function loadKubernetesJobFiles(files: readonly string[], overrides: JobOverrides): KubernetesJobFile[] {
  const specOverrides = overrides.mainClass !== undefined || (overrides.conf?.length ?? 0) > 0 || overrides.args !== undefined || overrides.name !== undefined
  return loadEach(files, (file): KubernetesJobFile => {
    if (overrides.vars?.length || overrides.varFiles?.length) throw new UsageError(`${file}: --var and --var-file are for Nomad HCL jobfiles`)
    if (MANIFEST_EXT.test(file)) {
      const text = readLocalFile(file)
      if (isManifestText(text, {json: /\.json$/i.test(file)})) {
        if (specOverrides) throw new UsageError(`${file}: a Kubernetes manifest takes no --class, --conf, --name or -- ARGS: edit the manifest`)
        return loadManifestFile(file, text)
      }
    }
    const spec = loadJobFile(file, overrides)
    checkKubernetesVolumes(spec)
    return {kind: 'spec', file, name: spec.name, spec}
  })
}
