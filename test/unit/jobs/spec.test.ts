import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {appKind, defaultJobName, formatPath, jobSpecSchema, parseJobSpec} from '../../../src/jobs/spec.js'
import {UsageError} from '../../../src/remote/errors.js'
import {SPEC_DEFAULTS} from './spec-defaults.js'

describe('job spec schema', () => {
  it('fills defaults and derives the name from the app', () => {
    expect(parseJobSpec({app: 's3/x/My Job (v2).py'}, 'x')).toEqual({
      name: 'My-Job-v2',
      app: 's3/x/My Job (v2).py',
      ...SPEC_DEFAULTS,
    })
  })

  it('a validated spec parses again to itself (records stored on the head can be re-checked)', () => {
    const spec = parseJobSpec({app: '/a/b.jar', mainClass: 'a.B', args: [1], conf: {'spark.x': true}, executor: {instances: 2}}, 'x')
    expect(jobSpecSchema.parse(spec)).toEqual(spec)
  })

  it('derives names that always match the name pattern', () => {
    expect(defaultJobName('/x/__.py')).toBe('job')
    expect(defaultJobName('https://h/a/etl-2026.11.jar?token=1#x')).toBe('etl-2026.11')
    expect(defaultJobName(`/x/${'a'.repeat(80)}.jar`)).toHaveLength(63)
  })

  it('tells jvm from python apps, URLs included', () => {
    expect(appKind({app: '/x/app.JAR'})).toBe('jvm')
    expect(appKind({app: 'https://h/p/app.py?x=1'})).toBe('python')
  })

  it('accepts nested class names with $', () => {
    expect(parseJobSpec({app: 'a.jar', mainClass: 'com.example.Outer$Inner'}, 'x').mainClass).toBe('com.example.Outer$Inner')
  })

  it('throws UsageError naming the source', () => {
    expect(() => parseJobSpec({app: 'a.jar'}, 'jobs/a.yaml')).toThrow(new UsageError('jobs/a.yaml: mainClass: required for a .jar app'))
  })

  it('formats paths unambiguously', () => {
    expect(formatPath(['conf', 'spark executor.memory'])).toBe('conf."spark executor.memory"')
    expect(formatPath(['args', 2])).toBe('args[2]')
    expect(formatPath(['driver', 'memory'])).toBe('driver.memory')
  })
})

describe('README.md job spec examples', () => {
  it('its YAML examples are valid specs', () => {
    const md = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
    const blocks = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!)
    expect(blocks).toHaveLength(2)
    const kinds = blocks.map((b) => appKind(parseJobSpec(parse(b), 'README')))
    expect(kinds).toEqual(['jvm', 'python'])
  })
})
