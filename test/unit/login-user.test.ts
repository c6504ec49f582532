import {describe, expect, it} from 'vitest'
import {validateLaunchOptions} from '../../src/providers/aws/launch-options.js'
import {loginUserFor} from '../../src/providers/login-user.js'
import {validateOpenStackLaunch} from '../../src/providers/openstack/launch-options.js'

const kubernetes = {engine: 'kubernetes', rootLogin: true}
const spark = {engine: 'spark'}

describe('the login user on hosts a cloud makes', () => {
  it('is root for an engine whose daemons need root, given or not', () => {
    expect(loginUserFor(kubernetes, undefined)).toBe('root')
    expect(loginUserFor(kubernetes, 'root')).toBe('root')
    expect(validateLaunchOptions({}, kubernetes).sshUser).toBe('root')
    expect(validateOpenStackLaunch({}, kubernetes).sshUser).toBe('root')
  })

  it('is what was given (or the provider default) for other engines', () => {
    expect(loginUserFor(spark, undefined)).toBeUndefined()
    expect(loginUserFor(spark, 'admin')).toBe('admin')
    expect(validateLaunchOptions({}, spark).sshUser).toBeUndefined()
    expect(validateOpenStackLaunch({sshUser: 'debian'}, spark).sshUser).toBe('debian')
  })

  it('refuses another login for an engine that needs root, in one line naming the flag', () => {
    expect(() => validateLaunchOptions({sshUser: 'admin'}, kubernetes)).toThrow(/^--ssh-user admin: -e kubernetes runs its daemons as root .* leave --ssh-user out/)
    expect(() => validateOpenStackLaunch({sshUser: 'debian'}, kubernetes)).toThrow(/^--ssh-user debian: -e kubernetes/)
  })
})
