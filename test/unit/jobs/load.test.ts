import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeEach, describe, expect, it} from 'vitest'
import {loadJobFile, loadJobFiles, parseConfOverrides} from '../../../src/jobs/load.js'
import {UsageError} from '../../../src/remote/errors.js'
import {SPEC_DEFAULTS} from './spec-defaults.js'

let dir: string

function file(rel: string, content = ''): string {
  const p = join(dir, rel)
  mkdirSync(join(p, '..'), {recursive: true})
  writeFileSync(p, content)
  return p
}

/** The UsageError message thrown by fn (fails the test if fn does not throw a UsageError). */
function usage(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError)
    return (err as Error).message
  }
  throw new Error('expected a UsageError')
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cms-jobs-'))
  file('app/pi.jar')
  file('app/lib/dep.jar')
  file('app/pi.py')
  file('app/util.zip')
  file('app/data.csv')
})

describe('loadJobFile: YAML spec', () => {
  it('applies defaults and resolves relative paths against the spec directory', () => {
    const p = file('app/pi.yaml', 'app: pi.jar\nmainClass: org.apache.spark.examples.SparkPi\n')
    expect(loadJobFile(p)).toEqual({
      name: 'pi',
      app: join(dir, 'app/pi.jar'),
      mainClass: 'org.apache.spark.examples.SparkPi',
      ...SPEC_DEFAULTS,
    })
  })

  it('reads every field, turns numbers and booleans into strings exactly as written, leaves URLs alone', () => {
    const p = file(
      'specs/etl.yml',
      [
        'name: nightly-etl',
        'app: ../app/pi.jar',
        'mainClass: com.example.Etl$Main',
        'args: [2026-11-01, 10, 3.10, "in/"]',
        'conf:',
        '  spark.sql.shuffle.partitions: 200',
        '  spark.speculation: true',
        '  spark.memory.fraction: 0.60',
        'jars: [../app/lib/dep.jar, "https://repo.example.com/x.jar"]',
        'files: [/' + join(dir, 'app/data.csv').slice(1) + ']',
        'env: {TZ: UTC, LEVEL: 3}',
        'driver: {cores: 2, memory: 2g}',
        'executor: {cores: 2, memory: 4G, instances: 3}',
        'priority: 50',
        'retries: 2',
      ].join('\n'),
    )
    const spec = loadJobFile(p)
    expect(spec.name).toBe('nightly-etl')
    expect(spec.app).toBe(join(dir, 'app/pi.jar'))
    expect(spec.mainClass).toBe('com.example.Etl$Main')
    expect(spec.args).toEqual(['2026-11-01', '10', '3.10', 'in/'])
    expect(spec.conf).toEqual({'spark.sql.shuffle.partitions': '200', 'spark.speculation': 'true', 'spark.memory.fraction': '0.60'})
    expect(spec.jars).toEqual([join(dir, 'app/lib/dep.jar'), 'https://repo.example.com/x.jar'])
    expect(spec.files).toEqual([join(dir, 'app/data.csv')])
    expect(spec.env).toEqual({TZ: 'UTC', LEVEL: '3'})
    expect(spec.driver).toEqual({cores: 2, memory: '2g'})
    expect(spec.executor).toEqual({cores: 2, memory: '4G', instances: 3})
    expect(spec.priority).toBe(50)
    expect(spec.retries).toBe(2)
  })

  it('treats empty keys (null) as not set', () => {
    const p = file('app/pi.yaml', 'app: pi.py\nmainClass:\nargs:\ndriver:\n  memory:\n')
    const spec = loadJobFile(p)
    expect(spec.mainClass).toBeUndefined()
    expect(spec.args).toEqual([])
    expect(spec.driver).toEqual({})
  })

  it('applies overrides on top: --conf merges, args replace, --class and name replace', () => {
    const p = file('app/pi.yaml', 'app: pi.jar\nmainClass: a.B\nargs: [1, 2]\nconf: {spark.a: x, spark.b: y}\n')
    const spec = loadJobFile(p, {mainClass: 'c.D', conf: ['spark.b=z', 'spark.c=a=b'], args: ['9'], name: 'other'})
    expect(spec).toMatchObject({mainClass: 'c.D', args: ['9'], name: 'other', conf: {'spark.a': 'x', 'spark.b': 'z', 'spark.c': 'a=b'}})
    expect(loadJobFile(p, {args: []}).args).toEqual([])
    expect(loadJobFile(p, {}).args).toEqual(['1', '2'])
  })

  it('expands ~/ to the home directory', () => {
    const p = file('app/pi.yaml', 'app: https://h/pi.py\nfiles: [~/nope-cms-test.csv]\n')
    expect(usage(() => loadJobFile(p))).toMatch(/files\[0\]: \/.*\/nope-cms-test\.csv not found$/)
  })
})

describe('loadJobFile: JSON spec', () => {
  it('reads JSON with defaults, keeping numbers as written', () => {
    const p = file('app/pi.json', JSON.stringify({app: 'pi.py', args: [1, 'x'], pyFiles: ['util.zip']}).replace('[1,', '[1.0,'))
    const spec = loadJobFile(p)
    expect(spec).toMatchObject({name: 'pi', app: join(dir, 'app/pi.py'), args: ['1.0', 'x'], pyFiles: [join(dir, 'app/util.zip')], retries: 0, priority: 0})
    expect(spec.mainClass).toBeUndefined()
  })

  it('reports invalid JSON on one line', () => {
    const p = file('app/bad.json', '{"app": "pi.py",\n')
    const msg = usage(() => loadJobFile(p))
    expect(msg).toMatch(new RegExp(`^${p}: invalid JSON: `))
    expect(msg).not.toContain('\n')
  })
})

describe('loadJobFile: bare app', () => {
  it('a .jar with --class, --conf and args', () => {
    const p = join(dir, 'app/pi.jar')
    const spec = loadJobFile(p, {mainClass: 'org.apache.spark.examples.SparkPi', conf: ['spark.executor.memory=1g'], args: ['100', 'a b']})
    expect(spec).toMatchObject({name: 'pi', app: p, mainClass: 'org.apache.spark.examples.SparkPi', conf: {'spark.executor.memory': '1g'}, args: ['100', 'a b']})
  })

  it('a .py, relative to the working directory', () => {
    const cwd = process.cwd()
    process.chdir(join(dir, 'app'))
    try {
      const spec = loadJobFile('pi.py')
      expect(spec).toMatchObject({name: 'pi', app: join(dir, 'app/pi.py'), args: [], conf: {}})
    } finally {
      process.chdir(cwd)
    }
  })

  it('a .jar without --class says which flag is missing', () => {
    const p = join(dir, 'app/pi.jar')
    expect(usage(() => loadJobFile(p))).toBe(`${p}: --class: required for a .jar app`)
  })

  it('an http(s) URL is not checked locally', () => {
    expect(loadJobFile('https://example.com/jobs/word%20count.py').name).toBe('word-count')
  })

  it('a missing bare app', () => {
    const p = join(dir, 'app/nope.py')
    expect(usage(() => loadJobFile(p))).toBe(`${p}: not found`)
  })
})

describe('loadJobFile: errors are one line naming the file and the field', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['a conf key that is not a Spark property', 'app: pi.jar\nmainClass: A\nconf:\n  "spark executor.memory": 1g\n', /: conf\."spark executor\.memory": keys must be Spark properties like spark\.executor\.memory$/],
    ['a .jar without mainClass', 'app: pi.jar\n', /: mainClass: required for a \.jar app$/],
    ['mainClass on a .py', 'app: pi.py\nmainClass: a.B\n', /: mainClass: only for a \.jar app/],
    ['a bad mainClass', 'app: pi.jar\nmainClass: com.example.1Main\n', /: mainClass: must be a Java class name/],
    ['pyFiles with a .jar', 'app: pi.jar\nmainClass: A\npyFiles: [util.zip]\n', /: pyFiles: only for a \.py app$/],
    ['an app that is neither .jar nor .py', 'app: pi.sh\n', /: app: must be a \.jar or \.py file$/],
    ['an app URL that is not http(s)', 'app: ftp://h/pi.py\n', /: app: must be a local path or an http\(s\) URL$/],
    ['a missing app', 'name: x\n', /: app: required$/],
    ['a bad name', 'name: -x\napp: pi.py\n', /: name: must be 1-63 letters/],
    ['an unknown field (typo)', 'app: pi.jar\nmainclass: A\n', /: mainclass: unknown field \(did you mean mainClass\?\)/],
    ['an unknown nested field', 'app: pi.py\nexecutor: {memroy: 1g}\n', /: executor\.memroy: unknown field \(did you mean memory\?\)$/],
    ['a bad memory size', 'app: pi.py\ndriver: {memory: 2 GB}\n', /: driver\.memory: expected a size like 512m or 2g/],
    ['zero cores', 'app: pi.py\nexecutor: {cores: 0}\n', /: executor\.cores: expected a whole number ≥ 1$/],
    ['fractional instances', 'app: pi.py\nexecutor: {instances: 1.5}\n', /: executor\.instances: expected a whole number ≥ 1$/],
    ['priority out of range', 'app: pi.py\npriority: 1001\n', /: priority: expected a whole number from 0 to 1000$/],
    ['retries out of range', 'app: pi.py\nretries: 11\n', /: retries: expected a whole number from 0 to 10$/],
    ['a bad env name', 'app: pi.py\nenv: {1X: a}\n', /: env\."1X": keys must be environment variable names/],
    ['an arg that is a mapping', 'app: pi.py\nargs: [a, {b: 1}]\n', /: args\[1\]: expected a string, got a mapping$/],
    ['args not a list', 'app: pi.py\nargs: 5\n', /: args: expected a list of strings, got number 5$/],
    ['a conf value that is a list', 'app: pi.py\nconf: {spark.x: [1]}\n', /: conf\."spark\.x": expected a string, number or boolean, got a list$/],
    ['spark.master in conf', 'app: pi.py\nconf: {spark.master: "local[*]"}\n', /: conf\."spark\.master": set by cms/],
    ['a comma in a jar path', 'app: pi.py\njars: ["a,b.jar"]\n', /: jars\[0\]: must not contain a comma/],
    ['a list instead of a mapping', '- app: pi.py\n', /: expected a mapping of job fields, got a list$/],
    ['an empty file', '', /: the job spec is empty$/],
  ]
  for (const [what, yaml, re] of cases) {
    it(what, () => {
      const p = file('app/job.yaml', yaml)
      const msg = usage(() => loadJobFile(p))
      expect(msg.startsWith(`${p}: `)).toBe(true)
      expect(msg).toMatch(re)
      expect(msg).not.toContain('\n')
    })
  }

  it('joins several issues with "; "', () => {
    const p = file('app/job.yaml', 'app: pi.jar\npriority: -1\nconf: {foo: 1}\n')
    expect(usage(() => loadJobFile(p))).toBe(`${p}: conf.foo: keys must be Spark properties like spark.executor.memory; priority: expected a whole number from 0 to 1000; mainClass: required for a .jar app`)
  })

  it('invalid YAML', () => {
    const p = file('app/job.yaml', 'app: [pi.py\n')
    const msg = usage(() => loadJobFile(p))
    expect(msg).toMatch(new RegExp(`^${p}: invalid YAML: .* at line \\d+, column \\d+$`))
    expect(msg).not.toContain('\n')
  })

  it('a duplicate key is invalid YAML', () => {
    const p = file('app/job.yaml', 'app: pi.py\napp: pi.jar\n')
    expect(usage(() => loadJobFile(p))).toMatch(/invalid YAML: Map keys must be unique/)
  })

  it('a missing spec file', () => {
    expect(usage(() => loadJobFile('jobs/nope.yaml'))).toBe('jobs/nope.yaml: not found')
  })

  it('an unknown extension', () => {
    expect(usage(() => loadJobFile(file('app/job.txt')))).toMatch(/expected a job spec \(\.yaml, \.yml, \.json\) or an app/)
  })

  it('missing referenced files are all named, with absolute paths', () => {
    const p = file('app/job.yaml', 'app: gone.jar\nmainClass: A\njars: [lib/dep.jar, lib/gone.jar]\nfiles: [https://h/x.csv, lib]\n')
    expect(usage(() => loadJobFile(p))).toBe(`${p}: app: ${join(dir, 'app/gone.jar')} not found; jars[1]: ${join(dir, 'app/lib/gone.jar')} not found; files[1]: ${join(dir, 'app/lib')} is not a file`)
  })

  it('--conf without "=" or with a non-Spark key', () => {
    const p = join(dir, 'app/pi.py')
    expect(usage(() => loadJobFile(p, {conf: ['spark.executor.memory']}))).toMatch(/^--conf "spark\.executor\.memory": expected KEY=VALUE/)
    expect(usage(() => loadJobFile(p, {conf: ['=1']}))).toMatch(/expected KEY=VALUE/)
    expect(usage(() => loadJobFile(p, {conf: ['executor.memory=1g']}))).toMatch(/keys must be Spark properties/)
    expect(parseConfOverrides(['spark.a=', 'spark.b=x=y'])).toEqual({'spark.a': '', 'spark.b': 'x=y'})
  })
})

describe('loadJobFiles', () => {
  it('returns every spec when all are good', () => {
    const a = file('app/a.yaml', 'app: pi.py\n')
    const b = file('app/b.json', '{"app": "pi.jar", "mainClass": "A"}')
    expect(loadJobFiles([a, b]).map((s) => [s.name, s.mainClass])).toEqual([['pi', undefined], ['pi', 'A']])
    const c = join(dir, 'app/pi.jar')
    expect(loadJobFiles([b, c], {mainClass: 'B'}).map((s) => [s.name, s.mainClass])).toEqual([['pi', 'B'], ['pi', 'B']])
  })

  it('--class given for a .py app is an error, not silently ignored', () => {
    const a = file('app/a.yaml', 'app: pi.py\n')
    expect(usage(() => loadJobFiles([a], {mainClass: 'B'}))).toBe(`${a}: --class: only for a .jar app (a .py app has no main class)`)
  })

  it('rejects all when one is bad, naming every bad file', () => {
    const good = file('app/good.yaml', 'app: pi.py\n')
    const bad1 = file('app/bad1.yaml', 'app: pi.jar\n')
    const bad2 = file('app/bad2.yaml', 'app: nope.py\n')
    const msg = usage(() => loadJobFiles([good, bad1, bad2]))
    expect(msg.split('\n')).toEqual([`${bad1}: mainClass: required for a .jar app`, `${bad2}: app: ${join(dir, 'app/nope.py')} not found`])
  })

  it('needs at least one file', () => {
    expect(usage(() => loadJobFiles([]))).toBe('no job file given')
  })
})
