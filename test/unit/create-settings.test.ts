import {describe, expect, it} from 'vitest'
import {validateCreate, type CreateRequest} from '../../src/cluster/create.js'
import {sharedWorkerMemory} from '../../src/engines/spark/shared-machine.js'
import {UsageError} from '../../src/remote/errors.js'

const request = (workerMemory?: string): CreateRequest => ({
  name: 'ok-name',
  provider: 'docker',
  engine: 'spark',
  hostSpecs: [],
  // a URL is only checked for its form
  options: {'spark-dist': 'https://downloads.example.invalid/spark-4.3.0-bin-hadoop3.tgz', 'worker-memory': workerMemory},
})

describe('worker memory on a shared machine', () => {
  it('splits the machine equally and keeps 1 GiB of each share for everything else', () => {
    expect(sharedWorkerMemory({memoryMb: 24_576, cpus: 2}, 3)).toBe('7168m')
    expect(sharedWorkerMemory({memoryMb: 24_576, cpus: 2}, 8)).toBe('2048m')
    expect(sharedWorkerMemory({memoryMb: 24_576, cpus: 2}, 1)).toBe('23552m')
  })

  it('never offers less than 1 GiB, even when the machine is too small for its hosts', () => {
    expect(sharedWorkerMemory({memoryMb: 2048, cpus: 1}, 4)).toBe('1024m')
    expect(sharedWorkerMemory({memoryMb: 8192, cpus: 1}, 0)).toBe('7168m')
  })
})

describe('--worker-memory validation', () => {
  it.each(['4g', '1500m', '1T', '512M'])('accepts %s', (value) => {
    expect(() => validateCreate(request(value))).not.toThrow()
  })

  it.each(['4096', '4gb', '0g', '-1g', '4 g', '4g; id', ''])('refuses %j with a usage error', (value) => {
    expect(() => validateCreate(request(value))).toThrow(UsageError)
    expect(() => validateCreate(request(value))).toThrow(/--worker-memory/)
  })

  it('leaves the default to the provider when unset', () => {
    expect(() => validateCreate(request(undefined))).not.toThrow()
  })
})
