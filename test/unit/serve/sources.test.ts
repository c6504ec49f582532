import {describe, expect, it} from 'vitest'
import {parseSources} from '../../../src/serve/sources/config.js'
import {localFilesOf, TASK_FILE_RE, taskOfFile} from '../../../src/serve/sources/task-file.js'
import {redactUrl, taskOfRow} from '../../../src/serve/sources/sql.js'

describe('the sources file', () => {
  it('reads directory sources with their defaults', () => {
    expect(parseSources('sources:\n  - {name: drop, kind: directory, path: /var/spool/cms/, cluster: etl, interval: 1m}\n  - {name: d2, kind: directory, path: /x, cluster: [a, b], settle: 10s}\n', 's.yaml')).toEqual([
      {name: 'drop', kind: 'directory', path: '/var/spool/cms', cluster: 'etl', intervalMs: 60_000, settleMs: 2000},
      {name: 'd2', kind: 'directory', path: '/x', cluster: ['a', 'b'], intervalMs: 5000, settleMs: 10_000},
    ])
  })

  it.each([
    ['sources: [', 's.yaml: not valid YAML'],
    ['other: 1', 's.yaml: sources: '],
    ['sources:\n  - {name: q, kind: rabbitmq, url: "amqp://x"}', 's.yaml: sources[0].kind: "rabbitmq" is not a kind of source this version has (known: directory, sql)'],
    ['sources:\n  - {name: d, kind: directory, path: relative/dir}', 's.yaml: sources[0].path: must be an absolute path'],
    ['sources:\n  - {name: d, kind: directory, path: /x, interval: soon}', 'sources[0].interval'],
    ['sources:\n  - {name: d, kind: directory, path: /x, colour: red}', 's.yaml: sources[0].colour: unknown field'],
    ['sources:\n  - {name: d, kind: directory, path: /x}\n  - {name: d, kind: directory, path: /y}', 's.yaml: sources[1].name: d is used twice'],
  ])('refuses %j in one line', (text, message) => {
    expect(() => parseSources(text, 's.yaml')).toThrow(message)
  })
})

describe('a task file', () => {
  it('is a spec, a task, a Nomad jobfile or Kubernetes manifests by its content', () => {
    expect(taskOfFile('pi.yaml', 'app: pi.py\nargs: [10]\n', 'etl')).toEqual({cluster: 'etl', spec: {app: 'pi.py', args: [10]}})
    expect(taskOfFile('t.json', '{"cluster": "other", "spec": {"app": "x.py"}, "priority": 5}', 'etl')).toEqual({cluster: 'other', spec: {app: 'x.py'}, priority: 5})
    expect(taskOfFile('job.hcl', 'job "a" {}', ['n1', 'n2'])).toEqual({cluster: ['n1', 'n2'], jobfile: {name: 'job.hcl', content: 'job "a" {}'}})
    const manifests = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: batch/v1\nkind: Job\n'
    expect(taskOfFile('j.yaml', manifests, 'k8s')).toEqual({cluster: 'k8s', jobfile: {name: 'j.yaml', content: manifests}})
    expect(taskOfFile('c.json', '{"jobId": "a", "jobType": "SparkApp", "sparkAppPath": "x.py"}', undefined)).toEqual({jobId: 'a', jobType: 'SparkApp', sparkAppPath: 'x.py'})
  })

  it.each([
    ['a.yaml', 'app: [', 'not valid YAML or JSON'],
    ['a.yaml', '', 'the file is empty'],
    ['a.yaml', '- 1\n- 2\n', 'expected a mapping'],
    ['a.yaml', 'app: x.py\n---\napp: y.py\n', 'holds several documents'],
  ])('refuses %s %j', (name, text, message) => {
    expect(() => taskOfFile(name, text, 'etl')).toThrow(message)
  })

  it('needs a cluster from the file or the source', () => {
    expect(() => taskOfFile('a.yaml', 'app: x.py', undefined)).toThrow('cluster: the file names no cluster and the source has none')
  })

  it('names its local files; task files are known by their extension', () => {
    expect(localFilesOf({spec: {app: 'pi.py', pyFiles: ['lib.zip', 'https://e.org/b.zip'], files: ['data.csv', 'pi.py']}})).toEqual(['pi.py', 'lib.zip', 'data.csv'])
    expect(localFilesOf({jobfile: {name: 'a.hcl', content: ''}})).toEqual([])
    expect(['a.yaml', 'b.YML', 'c.json', 'd.hcl', 'e.nomad', 'pi.py', '.hidden.yaml', 'x.yaml.part', 'f.yaml~'].filter((n) => TASK_FILE_RE.test(n))).toEqual(['a.yaml', 'b.YML', 'c.json', 'd.hcl', 'e.nomad'])
  })
})

describe('a SQL table source', () => {
  it('reads its table, columns and status values, with defaults', () => {
    expect(parseSources('sources:\n  - {name: t, kind: sql, url: "postgres://cms:pw@db/etl", table: jobs.pending, cluster: etl}\n', 's.yaml')).toEqual([
      {name: 't', kind: 'sql', url: 'postgres://cms:pw@db/etl', table: 'jobs.pending', cluster: 'etl', intervalMs: 30_000, columns: {id: 'id', status: 'status', task: 'task', taskId: 'task_id', error: 'error'}, pending: 'pending'},
    ])
    expect(parseSources('sources:\n  - {name: t, kind: sql, url: "postgres://db/x", table: q, columns: {status: state, taskId: cms_task}, pending: NEW}\n', 's.yaml')[0]).toMatchObject({columns: {status: 'state', taskId: 'cms_task'}, pending: 'NEW'})
  })

  it.each([
    ['{name: t, kind: sql, url: "mysql://db/x", table: q}', 'sources[0].url: expected a postgres:// URL'],
    ['{name: t, kind: sql, url: "postgres://db/x", table: "q; drop table x"}', 'sources[0].table: must be a table name, or schema.table'],
    ['{name: t, kind: sql, url: "postgres://db/x", table: q, columns: {id: "a b"}}', 'sources[0].columns.id: must be a plain SQL name'],
  ])('refuses %s', (entry, message) => {
    expect(() => parseSources(`sources:\n  - ${entry}\n`, 's.yaml')).toThrow(message)
  })

  it("reads a row's task or bare spec as JSON; never shows the database password", () => {
    expect(taskOfRow('{"app": "https://e.org/a.py"}', 'etl')).toEqual({cluster: 'etl', spec: {app: 'https://e.org/a.py'}})
    expect(taskOfRow('{"cluster": "b", "spec": {"app": "x.py"}}', 'etl')).toEqual({cluster: 'b', spec: {app: 'x.py'}})
    expect(() => taskOfRow(null, 'etl')).toThrow('task: the row holds no task')
    expect(() => taskOfRow('{bad', 'etl')).toThrow('task: invalid JSON')
    expect(() => taskOfRow('[1]', 'etl')).toThrow('task: expected a JSON object')
    expect(() => taskOfRow('{"app": "a.py"}', undefined)).toThrow('cluster: the row names no cluster')
    expect(redactUrl('postgres://cms:s3cret@db:5432/etl')).toBe('postgres://cms:***@db:5432/etl')
  })
})
