import {randomBytes} from 'node:crypto'
import {UsageError} from '../remote/errors.js'

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/

export function validateJobId(id: string): string {
  if (!JOB_ID.test(id)) throw new UsageError(`invalid job id ${JSON.stringify(id)}`)
  return id
}

export function newJobId(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `${name}-${stamp}-${randomBytes(2).toString('hex')}`
}
