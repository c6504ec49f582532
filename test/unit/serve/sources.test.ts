import {describe, expect, it} from 'vitest'
import {parseSource, parseSources, type SourceConfig} from '../../../src/serve/sources/config.js'
import {connectUrl, messageTaskId, reconnectDelayMs} from '../../../src/serve/sources/rabbitmq.js'
import {reconcile, wantedSources} from '../../../src/serve/sources/source-set.js'
import {localFilesOf, TASK_FILE_RE, taskOfFile, taskOfJson} from '../../../src/serve/sources/task-file.js'
import {redactUrl} from '../../../src/serve/redact-url.js'

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
    ['sources:\n  - {name: q, kind: kafka, url: "kafka://x"}', 's.yaml: sources[0].kind: "kafka" is not a kind of source this version has (known: directory, sql, rabbitmq)'],
    ['sources:\n  - not a mapping', 's.yaml: sources[0]: expected a source ({name, kind, ...})'],
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
    expect(taskOfJson('{"app": "https://e.org/a.py"}', 'etl', 'row')).toEqual({cluster: 'etl', spec: {app: 'https://e.org/a.py'}})
    expect(taskOfJson('{"cluster": "b", "spec": {"app": "x.py"}}', 'etl', 'row')).toEqual({cluster: 'b', spec: {app: 'x.py'}})
    expect(() => taskOfJson(null, 'etl', 'row')).toThrow('task: the row holds no task')
    expect(() => taskOfJson('{bad', 'etl', 'row')).toThrow('task: invalid JSON')
    expect(() => taskOfJson('[1]', 'etl', 'row')).toThrow('task: expected a JSON object')
    expect(() => taskOfJson('{"app": "a.py"}', undefined, 'message')).toThrow('cluster: the message names no cluster')
    expect(redactUrl('postgres://cms:s3cret@db:5432/etl')).toBe('postgres://cms:***@db:5432/etl')
    expect(redactUrl('amqps://cms:s3cret@mq/prod')).toBe('amqps://cms:***@mq/prod')
    expect(redactUrl('amqp://cms:s3cret@[bad/')).toBe('amqp://(unparsable URL)')
  })
})

describe('a RabbitMQ source', () => {
  it('reads its queue, exchange and settings, with defaults', () => {
    expect(parseSources('sources:\n  - {name: bus, kind: rabbitmq, url: "amqp://cms:pw@mq/", queue: cms.tasks, cluster: [etl, etl-aws]}\n', 's.yaml')).toEqual([
      {name: 'bus', kind: 'rabbitmq', url: 'amqp://cms:pw@mq/', queue: 'cms.tasks', cluster: ['etl', 'etl-aws'], intervalMs: 5000, prefetch: 16, exchange: undefined, declare: false},
    ])
    expect(parseSource({name: 'b', kind: 'rabbitmq', url: 'amqps://mq:5671/v', queue: 'q', interval: '30s', prefetch: 1000, exchange: 'cms.events', declare: true}, '')).toEqual({
      name: 'b',
      kind: 'rabbitmq',
      url: 'amqps://mq:5671/v',
      queue: 'q',
      cluster: undefined,
      intervalMs: 30_000,
      prefetch: 1000,
      exchange: 'cms.events',
      declare: true,
    })
  })

  it.each([
    ['{name: b, kind: rabbitmq, url: "http://mq/", queue: q}', 's.yaml: sources[0].url: expected an amqp:// or amqps:// URL'],
    ['{name: b, kind: rabbitmq, url: "amqp://", queue: q}', 's.yaml: sources[0].url: expected an amqp:// or amqps:// URL'],
    ['{name: b, kind: rabbitmq, url: "amqp://mq/"}', 's.yaml: sources[0].queue: expected the queue to consume'],
    ['{name: b, kind: rabbitmq, url: "amqp://mq/", queue: ""}', 's.yaml: sources[0].queue: expected the queue to consume'],
    ['{name: b, kind: rabbitmq, url: "amqp://mq/", queue: q, prefetch: 0}', 's.yaml: sources[0].prefetch: expected a whole number from 1 to 1000'],
    ['{name: b, kind: rabbitmq, url: "amqp://mq/", queue: q, prefetch: 1001}', 's.yaml: sources[0].prefetch: expected a whole number from 1 to 1000'],
    ['{name: b, kind: rabbitmq, url: "amqp://mq/", queue: q, prefetch: 2.5}', 's.yaml: sources[0].prefetch: expected a whole number from 1 to 1000'],
    ['{name: b, kind: rabbitmq, url: "amqp://mq/", queue: q, exchange: ""}', 's.yaml: sources[0].exchange: expected an exchange name'],
    ['{name: b, kind: rabbitmq, url: "amqp://mq/", queue: q, declare: "yes"}', 's.yaml: sources[0].declare: expected true or false'],
    ['{name: b, kind: rabbitmq, url: "amqp://mq/", queue: q, interval: soon}', 's.yaml: sources[0].interval'],
    ['{name: b, kind: rabbitmq, url: "amqp://mq/", queue: q, cluster: []}', 's.yaml: sources[0].cluster'],
    ['{name: "b c", kind: rabbitmq, url: "amqp://mq/", queue: q}', 's.yaml: sources[0].name: must be 1-64 letters'],
    ['{name: b, kind: rabbitmq, url: "amqp://mq/", queue: q, table: t}', 's.yaml: sources[0].table: unknown field'],
  ])('refuses %s in one line', (entry, message) => {
    let error: Error | undefined
    try {
      parseSources(`sources:\n  - ${entry}\n`, 's.yaml')
    } catch (e) {
      error = e as Error
    }
    expect(error?.message).toContain(message)
    expect(error?.message).not.toContain('\n')
  })

  it('names the field alone for a request body (POST /mgmt/sources), never echoing the URL', () => {
    expect(() => parseSource({name: 'b', kind: 'rabbitmq', url: 'ftp://cms:s3cret@mq/', queue: 'q'}, '')).toThrow(/^url: expected an amqp:\/\/ or amqps:\/\/ URL$/)
    expect(() => parseSource([], '')).toThrow('body: expected a source')
    expect(() => parseSource({name: 'b'}, '')).toThrow('kind: undefined is not a kind of source')
  })

  it("takes a message's task id from the task, else from the AMQP message_id, else a fresh one", () => {
    expect(messageTaskId('bus', 'nightly-42', 'm-1', () => 'fresh')).toBe('nightly-42')
    expect(messageTaskId('bus', undefined, 'order-17', () => 'fresh')).toBe('bus-order-17')
    // A message id that is no plain task id (spaces, too long) is hashed: the same message id, the same task id.
    const odd = messageTaskId('bus', undefined, 'a b/c', () => 'fresh')
    expect(odd).toMatch(/^bus-m[0-9a-f]{24}$/)
    expect(messageTaskId('bus', undefined, 'a b/c', () => 'other')).toBe(odd)
    expect(messageTaskId('bus', undefined, 'x'.repeat(200), () => 'fresh')).toMatch(/^bus-m[0-9a-f]{24}$/)
    expect(messageTaskId('bus', undefined, undefined, () => 'fresh')).toBe('fresh')
    expect(messageTaskId('bus', '', '', () => 'fresh')).toBe('fresh')
  })

  it('connects with heartbeats unless the URL sets its own', () => {
    expect(connectUrl('amqp://cms:p%40ss@mq:5672/prod')).toBe('amqp://cms:p%40ss@mq:5672/prod?heartbeat=30')
    expect(connectUrl('amqps://mq/?heartbeat=5&frameMax=0')).toBe('amqps://mq/?heartbeat=5&frameMax=0')
  })

  it('waits longer after each failed connection, up to a minute', () => {
    expect([0, 1, 2, 3, 4, 10, 100].map((n) => reconnectDelayMs(5000, n))).toEqual([0, 5000, 10_000, 20_000, 40_000, 60_000, 60_000])
  })
})

describe('the source set', () => {
  it('stops the sources no longer wanted or changed, starts the new and changed ones', () => {
    expect(reconcile([], [])).toEqual({start: [], stop: []})
    expect(
      reconcile(
        [
          {name: 'a', key: '1'},
          {name: 'b', key: '2'},
          {name: 'd', key: '4'},
        ],
        [
          {name: 'a', key: '1'},
          {name: 'b', key: 'old'},
          {name: 'c', key: '3'},
        ],
      ),
    ).toEqual({start: ['b', 'd'], stop: ['b', 'c']})
  })

  it("wants the file's sources, then the stored ones by name; a stored one the file shadows or that cannot be read is skipped, saying why", () => {
    const file: SourceConfig[] = [{name: 'drop', kind: 'directory', path: '/x', intervalMs: 5000, settleMs: 2000}]
    const bus = {name: 'bus', kind: 'rabbitmq', url: 'amqp://mq/', queue: 'q'}
    const {wanted, skipped} = wantedSources(file, [
      {name: 'zeta', config: JSON.stringify({...bus, name: 'zeta'})},
      {name: 'drop', config: JSON.stringify({...bus, name: 'drop'})},
      {name: 'bus', config: JSON.stringify(bus)},
      {name: 'old', config: JSON.stringify({name: 'old', kind: 'kafka'})},
      {name: 'moved', config: JSON.stringify(bus)},
    ])
    expect(wanted.map((w) => [w.name, w.origin])).toEqual([
      ['drop', 'file'],
      ['bus', 'api'],
      ['zeta', 'api'],
    ])
    expect(wanted[1]!.config).toMatchObject({kind: 'rabbitmq', prefetch: 16})
    expect(Object.fromEntries(skipped)).toEqual({
      drop: 'the --sources file has a source of that name, which runs instead',
      old: 'cannot be read: kind: "kafka" is not a kind of source this version has (known: directory, sql, rabbitmq)',
      moved: 'cannot be read: name: bus is stored under moved',
    })
    // The same stored config is the same key (nothing restarts); a changed one is another.
    expect(wantedSources([], [{name: 'bus', config: JSON.stringify(bus)}]).wanted[0]!.key).toBe(wanted[1]!.key)
    expect(wantedSources([], [{name: 'bus', config: JSON.stringify({...bus, prefetch: 2})}]).wanted[0]!.key).not.toBe(wanted[1]!.key)
  })
})
