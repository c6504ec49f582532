import {describe, expect, it} from 'vitest'
import {notFoundWhere} from '../../src/cluster/context.js'
import {checkHostArguments} from '../../src/cluster/host-args.js'
import {HOST_MAKERS, PROVIDER_NAMES, providerCreateFlags, providerEntry, providerFlags, providerFlagsOf, refuseOtherProvidersFlags, requireProvider} from '../../src/providers/registry.js'

describe('the provider registry', () => {
  it('names every provider, and which of them make their own hosts', () => {
    expect(PROVIDER_NAMES).toEqual(['docker', 'ssh', 'aws', 'lxd', 'openstack'])
    expect(HOST_MAKERS).toEqual(['docker', 'aws', 'lxd', 'openstack'])
    expect(requireProvider('aws')).toBe('aws')
    expect(() => requireProvider('gce')).toThrow('unknown provider "gce": expected docker, ssh, aws, lxd or openstack')
  })

  it('collects every provider flag a command was given, and nothing else', () => {
    expect(Object.keys(providerFlags).sort()).toEqual(['connect', 'lxd-client-cert', 'lxd-client-key', 'lxd-remote', 'lxd-server-cert', 'lxd-socket', 'os-cloud', 'profile', 'region'])
    expect(Object.keys(providerCreateFlags)).toContain('instance-type')
    expect(providerFlagsOf({region: 'eu-west-1', spot: true, 'worker-memory': '2g', name: 'x', profile: undefined})).toEqual({region: 'eu-west-1', spot: true})
  })

  it('refuses create flags of another provider by name, and checks the chosen one\'s', () => {
    expect(() => refuseOtherProvidersFlags('docker', {'instance-type': 'm6i.large', spot: true})).toThrow('--instance-type, --spot: only for the aws provider (-p aws)')
    expect(() => refuseOtherProvidersFlags('aws', {'instance-type': 'm6i.large'})).not.toThrow()
    expect(providerEntry('aws').checkCreate({'max-age': '90m'}, {engine: 'spark'})).toMatchObject({maxAge: '1h30m'})
    expect(() => providerEntry('aws').checkCreate({'instance-type': 'huge'}, {engine: 'spark'})).toThrow('invalid --instance-type "huge"')
    expect(providerEntry('docker').checkCreate({}, {engine: 'spark'})).toBeUndefined()
  })

  it('a create flag two providers share is taken by both and refused elsewhere naming both', () => {
    expect(() => refuseOtherProvidersFlags('openstack', {'ssh-cidr': '10.0.0.0/8', 'max-age': '2h', flavor: 'm1.large'})).not.toThrow()
    expect(() => refuseOtherProvidersFlags('aws', {'ssh-cidr': '10.0.0.0/8'})).not.toThrow()
    expect(() => refuseOtherProvidersFlags('docker', {'ssh-cidr': '10.0.0.0/8'})).toThrow('--ssh-cidr: only for the aws and openstack providers (-p aws, -p openstack)')
    expect(() => refuseOtherProvidersFlags('openstack', {spot: true})).toThrow('--spot: only for the aws provider (-p aws)')
    expect(() => refuseOtherProvidersFlags('aws', {flavor: 'm1.large'})).toThrow('--flavor: only for the openstack provider (-p openstack)')
  })

  it('host arguments: --hosts N for providers that make hosts, user@host for the others', () => {
    expect(() => checkHostArguments('docker', {hostSpecs: ['a@b']}, 'create')).toThrow('the docker provider makes its own hosts: use --hosts N instead of host arguments')
    expect(() => checkHostArguments('ssh', {hostCount: 2, hostSpecs: ['a@b']}, 'create')).toThrow('--hosts N is for the docker, aws, lxd and openstack providers; name ssh hosts as user@host[:port] arguments')
    expect(() => checkHostArguments('ssh', {hostSpecs: []}, 'create')).toThrow('the ssh provider needs hosts: pass user@host[:port] arguments (the first is the head)')
    expect(() => checkHostArguments('ssh', {hostSpecs: []}, 'add')).toThrow('name the hosts to add as user@host[:port] arguments')
    expect(() => checkHostArguments('aws', {hostCount: 2, hostSpecs: []}, 'add')).not.toThrow()
  })

  it('a cluster not found says where it was looked for: local records, the access files, then remote ones', () => {
    expect(notFoundWhere(['no docker containers labelled cms.cluster=x', 'no access file for it'])).toBe('no docker containers labelled cms.cluster=x, no access file for it')
    expect(notFoundWhere(['no docker containers labelled cms.cluster=x', 'no access file for it', 'no instances tagged cms-cluster=x in AWS region r'])).toBe(
      'no docker containers labelled cms.cluster=x, no access file for it, and no instances tagged cms-cluster=x in AWS region r',
    )
  })
})
