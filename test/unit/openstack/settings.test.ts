import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {tokenRequest} from '../../../src/providers/openstack/client.js'
import {describeCredentials, findOpenStackSettings, identityUrl, openstackConfigured, requireOpenStackSettings} from '../../../src/providers/openstack/settings.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
})
function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'cms-openstack-unit-'))
  dirs.push(d)
  return d
}

const CLOUDS = `clouds:
  lab:
    auth:
      auth_url: https://keystone.example:5000
      username: alice
      project_name: research
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionTwo
    interface: internal
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://keystone.example:5000/v3/
      application_credential_id: abc123
      application_credential_secret: s3cret
  insecure:
    verify: false
    auth: {auth_url: 'https://k.example/v3', username: u, password: p, project_name: x}
`
const SECURE = `clouds:
  lab:
    auth:
      password: from-secure-yaml
`

describe('OpenStack credentials, as the openstack cli finds them', () => {
  it('a cloud of clouds.yaml (OS_CLIENT_CONFIG_FILE), with secure.yaml merged in; the flag before the recorded cloud before OS_CLOUD', () => {
    const dir = folder()
    writeFileSync(join(dir, 'clouds.yaml'), CLOUDS)
    writeFileSync(join(dir, 'secure.yaml'), SECURE)
    const env = {OS_CLIENT_CONFIG_FILE: join(dir, 'clouds.yaml'), OS_CLIENT_SECURE_FILE: join(dir, 'secure.yaml'), OS_CLOUD: 'appcred'}
    const lab = findOpenStackSettings('lab', {cloud: 'appcred'}, env)!
    expect(lab).toEqual({
      cloud: 'lab',
      auth: {
        kind: 'password',
        authUrl: 'https://keystone.example:5000/v3',
        userName: 'alice',
        userId: undefined,
        userDomainName: 'Default',
        userDomainId: undefined,
        password: 'from-secure-yaml',
        projectName: 'research',
        projectId: undefined,
        projectDomainName: 'Default',
        projectDomainId: undefined,
      },
      region: 'RegionTwo',
      interface: 'internal',
      caFile: undefined,
    })
    expect(findOpenStackSettings(undefined, {cloud: 'appcred'}, env)?.auth).toMatchObject({kind: 'application_credential', id: 'abc123', secret: 's3cret', authUrl: 'https://keystone.example:5000/v3'})
    expect(findOpenStackSettings(undefined, undefined, env)?.cloud).toBe('appcred')
    expect(describeCredentials(lab)).toBe('cloud lab, user alice at https://keystone.example:5000/v3')
    expect(() => findOpenStackSettings('nope', undefined, env)).toThrow(`cloud nope is not in ${join(dir, 'clouds.yaml')} (it has lab, appcred, insecure)`)
    expect(() => findOpenStackSettings('insecure', undefined, env)).toThrow('turns TLS verification off: cms never does')
  })

  it('clouds.yaml is looked for in ./, ~/.config/openstack/, /etc/openstack/ when OS_CLIENT_CONFIG_FILE is not set', () => {
    const home = folder()
    mkdirSync(join(home, '.config', 'openstack'), {recursive: true})
    writeFileSync(join(home, '.config', 'openstack', 'clouds.yaml'), CLOUDS)
    expect(findOpenStackSettings('appcred', undefined, {}, home)?.cloud).toBe('appcred')
  })

  it('the OS_* environment when no cloud is named; nothing when there is neither', () => {
    const env = {
      OS_AUTH_URL: 'http://127.0.0.1:5000/v3',
      OS_USERNAME: 'bob',
      OS_PASSWORD: 'pw',
      OS_TENANT_NAME: 'legacy',
      OS_USER_DOMAIN_ID: 'default',
      OS_REGION_NAME: 'R1',
      OS_INTERFACE: 'publicURL',
    }
    expect(findOpenStackSettings(undefined, undefined, env)).toMatchObject({
      auth: {kind: 'password', userName: 'bob', password: 'pw', projectName: 'legacy', userDomainId: 'default'},
      region: 'R1',
      interface: 'public',
    })
    expect(findOpenStackSettings(undefined, undefined, {})).toBeUndefined()
    expect(openstackConfigured(undefined, {})).toBe(false)
    expect(openstackConfigured(undefined, {OS_AUTH_URL: 'x'})).toBe(true)
    expect(openstackConfigured('lab', {})).toBe(true)
    expect(() => requireOpenStackSettings(undefined, undefined, {})).toThrow('no OpenStack credentials: pass --os-cloud')
    expect(() => findOpenStackSettings(undefined, undefined, {...env, OS_PASSWORD: ''})).toThrow('no password in the OS_* environment')
    expect(() => findOpenStackSettings(undefined, undefined, {...env, OS_INSECURE: 'true'})).toThrow('cms never turns off TLS verification')
    expect(() => findOpenStackSettings(undefined, undefined, {...env, OS_AUTH_TYPE: 'token'})).toThrow('auth type "token" in the OS_* environment is not supported')
  })

  it('Keystone v3 only: a version-less auth URL gets /v3, v2 is refused', () => {
    expect(identityUrl('https://k.example:5000', 's')).toBe('https://k.example:5000/v3')
    expect(identityUrl('https://k.example/identity/v3/', 's')).toBe('https://k.example/identity/v3')
    expect(() => identityUrl('https://k.example:5000/v2.0', 's')).toThrow('is Keystone v2: cms speaks Keystone v3 only')
    expect(() => identityUrl('ftp://k.example', 's')).toThrow('expected http(s)://')
  })

  it('token requests: a password scoped to its project, an application credential by id or by name and user', () => {
    expect(tokenRequest({kind: 'password', authUrl: 'u', userName: 'alice', password: 'pw', projectName: 'research'})).toEqual({
      auth: {identity: {methods: ['password'], password: {user: {name: 'alice', domain: {name: 'Default'}, password: 'pw'}}}, scope: {project: {name: 'research', domain: {name: 'Default'}}}},
    })
    expect(tokenRequest({kind: 'password', authUrl: 'u', userId: 'u1', password: 'pw', projectId: 'p1'})).toEqual({
      auth: {identity: {methods: ['password'], password: {user: {id: 'u1', password: 'pw'}}}, scope: {project: {id: 'p1'}}},
    })
    expect(tokenRequest({kind: 'application_credential', authUrl: 'u', id: 'ac', secret: 's'})).toEqual({
      auth: {identity: {methods: ['application_credential'], application_credential: {id: 'ac', secret: 's'}}},
    })
    expect(tokenRequest({kind: 'application_credential', authUrl: 'u', name: 'ci', userName: 'alice', userDomainId: 'd1', secret: 's'})).toEqual({
      auth: {identity: {methods: ['application_credential'], application_credential: {name: 'ci', secret: 's', user: {name: 'alice', domain: {id: 'd1'}}}}},
    })
  })
})
