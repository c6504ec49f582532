import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {openApiDocument} from '../../../src/serve/http/openapi.js'

const HTTP_DIR = join(import.meta.dirname, '..', '..', '..', 'src', 'serve', 'http')

/** `METHOD /path/{param}` for every route the server's source registers (app.get/post/put/patch/delete). */
function registeredRoutes(): string[] {
  const routes: string[] = []
  for (const file of readdirSync(HTTP_DIR).filter((f) => f.endsWith('.ts'))) {
    const src = readFileSync(join(HTTP_DIR, file), 'utf8')
    for (const m of src.matchAll(/\bapp\.(get|post|put|patch|delete)\(\s*['"`]([^'"`]+)['"`]/g)) {
      routes.push(`${m[1]!.toUpperCase()} ${m[2]!.replace(/:([A-Za-z_]\w*)/g, '{$1}')}`)
    }
  }
  return routes.sort()
}

type Doc = {
  openapi: string
  info: {version: string}
  paths: Record<string, Record<string, {security?: unknown; parameters?: Array<{name: string; in: string}>}>>
  components: {schemas: Record<string, {type?: string; properties?: Record<string, unknown>; required?: string[]}>; securitySchemes: Record<string, unknown>}
}

describe('the OpenAPI document', () => {
  const doc = openApiDocument('1.2.3') as Doc
  const documented = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    .sort()

  it('documents exactly the routes the server registers', () => {
    const routes = registeredRoutes()
    // The scan itself found the routes (a changed registration style would make this test vacuous).
    expect(routes.length).toBeGreaterThanOrEqual(17)
    expect(routes).toContain('GET /task/{id}')
    expect(documented).toEqual(routes)
  })

  it('is OpenAPI 3.0 with the given version; every route but /health needs a key', () => {
    expect(doc.openapi).toBe('3.0.3')
    expect(doc.info.version).toBe('1.2.3')
    expect(doc.components.securitySchemes).toHaveProperty('apiKey')
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (path === '/health') expect(op.security, `${method} ${path}`).toBeUndefined()
        else expect(op.security, `${method} ${path}`).toEqual([{apiKey: []}])
      }
    }
  })

  it('every path parameter is declared', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])
      for (const [method, op] of Object.entries(ops)) {
        expect(
          (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
          `${method} ${path}`,
        ).toEqual(names)
      }
    }
  })

  it('components.schemas.Task has the task fields (only cluster is required)', () => {
    const task = doc.components.schemas.Task!
    expect(task.type).toBe('object')
    expect(Object.keys(task.properties!).sort()).toEqual(['cluster', 'id', 'jobfile', 'notify', 'priority', 'resources', 'retries', 'spec'])
    expect(task.required).toEqual(['cluster'])
  })

  it('the classic form and the job spec are there too', () => {
    const classic = doc.components.schemas.ClassicTask!
    expect(Object.keys(classic.properties!).sort()).toEqual(['cluster', 'dependencies', 'jobId', 'jobType', 'mainClass', 'parameters', 'priority', 'retries', 'sparkAppPath'])
    expect([...classic.required!].sort()).toEqual(['jobId', 'jobType', 'sparkAppPath'])
    const spec = doc.components.schemas.JobSpec!
    expect(Object.keys(spec.properties!)).toEqual(expect.arrayContaining(['name', 'app', 'mainClass', 'args', 'conf', 'jars', 'pyFiles', 'files', 'env', 'driver', 'executor', 'priority', 'retries']))
    expect(spec.required).toEqual(['app'])
    expect(JSON.stringify(doc)).not.toContain('"$schema"')
  })
})
