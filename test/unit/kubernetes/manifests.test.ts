import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {loadKubernetesJobFiles, loadManifestFile} from '../../../src/engines/kubernetes/job-files.js'
import {isManifestText, parseManifest, withCmsDefaults} from '../../../src/engines/kubernetes/manifests.js'
import {UsageError} from '../../../src/remote/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'cms-k8s-manifests-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
const file = (name: string, content: string) => {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}
const usage = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return (error as Error).message
  }
  throw new Error('expected a UsageError')
}

const JOB = 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: hello}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox}]\n'

describe('Kubernetes manifests', () => {
  it('reads every document of a multi-document YAML file, skipping empty ones', () => {
    const objects = parseManifest(`---\n${JOB}---\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: team}\ndata: {a: "1"}\n`, 'm.yaml')
    expect(objects.map((o) => [o.where, o.object.kind, o.object.metadata.name])).toEqual([
      ['document 1', 'Job', 'hello'],
      ['document 4', 'ConfigMap', 'cfg'],
    ])
    expect(objects[1]!.object).toMatchObject({metadata: {namespace: 'team'}, data: {a: '1'}})
  })

  it('reads YAML as kubectl does (YAML 1.1): 0644 is octal, yes is true, dates and 1:30 stay strings', () => {
    const [o] = parseManifest('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nmode: 0644\nflag: yes\nday: 2026-11-29\nt: 1:30\n', 'x.yaml')
    expect(o!.object).toMatchObject({mode: 420, flag: true, day: '2026-11-29', t: '1:30'})
  })

  it('expands a List into its items and reads JSON', () => {
    const list = JSON.stringify({apiVersion: 'v1', kind: 'List', items: [{apiVersion: 'v1', kind: 'Pod', metadata: {name: 'p'}}, {apiVersion: 'v1', kind: 'Service', metadata: {name: 's'}}]})
    expect(parseManifest(list, 'l.json', {json: true}).map((o) => `${o.where}: ${o.object.kind}`)).toEqual(['document 1, item 1: Pod', 'document 1, item 2: Service'])
  })

  it('refuses a bad document with one line naming the file and the document', () => {
    expect(usage(() => parseManifest(`${JOB}---\nkind: Job\nmetadata: {name: x}\n`, 'm.yaml'))).toBe('m.yaml: document 2: no apiVersion')
    expect(usage(() => parseManifest(`${JOB}---\n- a\n- b\n`, 'm.yaml'))).toBe('m.yaml: document 2: expected a Kubernetes object (a mapping with apiVersion, kind and metadata.name)')
    expect(usage(() => parseManifest('apiVersion: v1\nkind: Pod\nmetadata: {generateName: p-}\n', 'g.yaml'))).toBe(
      'g.yaml: document 1: Pod has metadata.generateName, which server-side apply cannot use: give it a metadata.name',
    )
    expect(usage(() => parseManifest('apiVersion: v1\nkind: Pod\nspec: {}\n', 'n.yaml'))).toBe('n.yaml: document 1: Pod has no metadata.name')
    expect(usage(() => parseManifest('apiVersion: v1\nkind: Pod\nmetadata: {name: 3}\n', 'n.yaml'))).toBe('n.yaml: document 1: Pod metadata.name must be a string')
    expect(usage(() => parseManifest(`${JOB}---\nkind: [unclosed\n`, 'y.yaml'))).toMatch(/^y\.yaml: document 2: invalid YAML: /)
    expect(usage(() => parseManifest('{"apiVersion": ', 'j.json', {json: true}))).toMatch(/^j\.json: invalid JSON: /)
    const line = usage(() => parseManifest(`${JOB}---\nkind: [unclosed\n`, 'y.yaml'))
    expect(line.split('\n')).toHaveLength(1)
  })

  it('tells a manifest from a job spec by apiVersion/kind in its first document', () => {
    expect(isManifestText(JOB)).toBe(true)
    expect(isManifestText(`# comment\n---\n${JOB}`)).toBe(true)
    expect(isManifestText('app: pi.py\nargs: [1]\n')).toBe(false)
    expect(isManifestText('{"app": "x.jar"}', {json: true})).toBe(false)
    expect(isManifestText('{"kind": "Pod"}', {json: true})).toBe(true)
  })

  it('adds the managed-by label and makes the namespace explicit for namespaced kinds only', () => {
    const [o] = parseManifest(JOB, 'm.yaml')
    expect(withCmsDefaults(o!.object, true).metadata).toEqual({name: 'hello', namespace: 'default', labels: {'app.kubernetes.io/managed-by': 'cms'}})
    const ns = {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'team', namespace: 'oops', labels: {a: 'b'}}}
    expect(withCmsDefaults(ns, false).metadata).toEqual({name: 'team', labels: {a: 'b', 'app.kubernetes.io/managed-by': 'cms'}})
    // The user's object is not changed.
    expect(o!.object.metadata.labels).toBeUndefined()
  })
})

describe('Kubernetes job files', () => {
  const job = file('job.yaml', JOB)
  const spec = file('pi.yaml', 'app: pi.py\nargs: [4]\n')
  file('pi.py', 'print(1)\n')

  it('loads manifests as they are and portable specs as specs', () => {
    const loaded = loadKubernetesJobFiles([job, spec], {})
    expect(loaded.map((j) => [j.kind, j.name])).toEqual([
      ['manifest', 'hello'],
      ['spec', 'pi'],
    ])
  })

  it('needs a Job or a bare Pod in each manifest file', () => {
    const cm = file('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n')
    expect(usage(() => loadManifestFile(cm))).toMatch(/^.*cm\.yaml: no Job \(batch\/v1\) or Pod \(v1\): cms submits Jobs and bare Pods/)
    expect(usage(() => loadManifestFile(file('empty.yaml', '---\n---\n')))).toMatch(/empty\.yaml: no Kubernetes object/)
  })

  it('refuses the same object twice in one file', () => {
    expect(usage(() => loadManifestFile(file('twice.yaml', `${JOB}---\n${JOB}`)))).toMatch(/twice\.yaml: document 2: Job hello appears twice in the file$/)
  })

  it('names every bad file in one UsageError and refuses spec flags for manifests', () => {
    const bad = file('bad.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {}\n')
    const message = usage(() => loadKubernetesJobFiles([job, bad, join(dir, 'missing.yaml')], {}))
    expect(message.split('\n')).toEqual([`${bad}: document 1: Pod has no metadata.name`, `${join(dir, 'missing.yaml')}: not found`])
    expect(usage(() => loadKubernetesJobFiles([job], {conf: ['spark.a=1']}))).toMatch(/job\.yaml: a Kubernetes manifest takes no --class, --conf, --name or -- ARGS/)
    expect(usage(() => loadKubernetesJobFiles([job], {vars: ['a=1']}))).toMatch(/--var and --var-file are for Nomad HCL jobfiles/)
    expect(usage(() => loadKubernetesJobFiles([], {}))).toBe('no job file given')
  })
})
