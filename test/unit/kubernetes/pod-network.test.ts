import {execFileSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {MASQUERADE_COMMENT, podNetworkCleanupScript, podNetworkScript, renderCniConfig} from '../../../src/engines/kubernetes/pod-network.js'

/** Root with iptables and network namespaces: the scripts run in a namespace of their own, never the machine's. */
const canUnshare = (() => {
  try {
    execFileSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && iptables -t nat -S POSTROUTING'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
})()

const netns = (script: string) =>
  execFileSync('unshare', ['-n', 'bash', '-c', script], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000})

/** Two veth ends on 192.168.50.0/24, like two hosts of a cms cluster network. */
const LINK = 'ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add 192.168.50.1/24 dev v0 && ip link set v0 up && ip link set v1 up'

describe('the CNI configuration', () => {
  it("is a bridge with the node's own /24 from host-local, no per-range masquerade, plus portmap", () => {
    const conf = JSON.parse(renderCniConfig({nodePodCidr: '10.244.2.0/24', ipamDataDir: '/var/lib/cms/demo/cni'}))
    expect(conf.cniVersion).toBe('0.4.0')
    expect(conf.name).toBe('cms-pods')
    expect(conf.plugins.map((p: {type: string}) => p.type)).toEqual(['bridge', 'portmap'])
    const bridge = conf.plugins[0]
    expect(bridge).toMatchObject({bridge: 'cms0', isGateway: true, ipMasq: false, hairpinMode: true})
    expect(bridge.ipam).toEqual({type: 'host-local', ranges: [[{subnet: '10.244.2.0/24'}]], routes: [{dst: '0.0.0.0/0'}], dataDir: '/var/lib/cms/demo/cni'})
  })

  it('refuses a range outside the pod network, a bad bridge name or MTU', () => {
    expect(() => renderCniConfig({nodePodCidr: '10.245.2.0/24', ipamDataDir: '/x'})).toThrow(/not inside the pod network/)
    expect(() => renderCniConfig({nodePodCidr: '10.244.2.0/24', ipamDataDir: '/x', bridge: 'a bridge'})).toThrow(/interface/)
    expect(() => renderCniConfig({nodePodCidr: '10.244.2.0/24', ipamDataDir: 'x'})).toThrow(/absolute/)
    expect(() => renderCniConfig({nodePodCidr: '10.244.2.0/24', ipamDataDir: '/x', mtu: 100})).toThrow(/MTU/)
  })
})

describe('pod routes and masquerading', () => {
  const input = {
    nodePodCidr: '10.244.1.0/24',
    peers: [
      {name: 'node-2', podCidr: '10.244.2.0/24', address: '192.168.50.2'},
      {name: 'node-3', podCidr: '10.244.3.0/24', address: '192.168.50.3'},
    ],
  }

  it('refuses peers outside the pod network, shared ranges and bad addresses', () => {
    expect(() => podNetworkScript({...input, peers: [{name: 'n', podCidr: '10.245.2.0/24', address: '192.168.50.2'}]})).toThrow(/not a \/24 of/)
    expect(() => podNetworkScript({...input, peers: [{name: 'n', podCidr: '10.244.1.0/24', address: '192.168.50.2'}]})).toThrow(/share/)
    expect(() => podNetworkScript({...input, peers: [{name: 'n', podCidr: '10.244.2.0/24', address: 'x; reboot'}]})).toThrow(/IP address/)
    expect(() => podNetworkScript({...input, peers: [{name: 'n', podCidr: '10.244.0.0/23', address: '192.168.50.2'}]})).toThrow(/\/24/)
  })

  it.skipIf(!canUnshare)('routes each peer range via its node, drops routes of gone peers, masquerades once, cleans up', () => {
    const out = netns(
      [
        LINK,
        'ip link add cms0 type bridge',
        // A leftover route of a removed peer, and one outside the pod network that must stay.
        'ip route add 10.244.9.0/24 via 192.168.50.9',
        'ip route add 172.16.5.0/24 via 192.168.50.5',
        podNetworkScript(input),
        podNetworkScript(input),
        'echo "--- routes"; ip -4 route show',
        'echo "--- nat"; iptables -t nat -S POSTROUTING',
        podNetworkScript({...input, peers: input.peers.slice(0, 1)}),
        'echo "--- after remove"; ip -4 route show',
        podNetworkCleanupScript({}),
        'echo "--- after cleanup"; ip -4 route show; iptables -t nat -S POSTROUTING; ip link show cms0 2>&1 || true',
      ].join('\n'),
    )
    const [, routes, nat, afterRemove, afterCleanup] = out.split(/^--- .*$/m)
    expect(routes).toMatch(/^10\.244\.2\.0\/24 via 192\.168\.50\.2 dev v0/m)
    expect(routes).toMatch(/^10\.244\.3\.0\/24 via 192\.168\.50\.3 dev v0/m)
    expect(routes).not.toMatch(/10\.244\.9\.0/)
    expect(routes).toMatch(/^172\.16\.5\.0\/24 via 192\.168\.50\.5/m)
    expect(nat!.match(/MASQUERADE/g)).toHaveLength(1)
    expect(nat).toContain(`-A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -m comment --comment "${MASQUERADE_COMMENT}" -j MASQUERADE`)
    expect(afterRemove).toMatch(/^10\.244\.2\.0\/24 via/m)
    expect(afterRemove).not.toMatch(/10\.244\.3\.0/)
    expect(afterCleanup).not.toMatch(/10\.244\./)
    expect(afterCleanup).toMatch(/^172\.16\.5\.0\/24 via 192\.168\.50\.5/m)
    expect(afterCleanup).not.toMatch(/MASQUERADE/)
    expect(afterCleanup).toMatch(/does not exist/)
  })
})
