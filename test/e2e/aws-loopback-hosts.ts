import {DescribeInstanceAttributeCommand, DescribeInstancesCommand, type EC2Client} from '@aws-sdk/client-ec2'
import type {MachineSource} from './instance-hosts.js'
import {LoopbackHosts} from './loopback-hosts.js'

/** The emulator's instances as machines: up while pending or running, gone from shutting-down or stopping on. */
export function ec2Machines(ec2: EC2Client): MachineSource {
  return {
    async machines() {
      const out = await ec2.send(new DescribeInstancesCommand({}))
      return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => {
        const state = i.State?.Name ?? ''
        return {
          id: i.InstanceId!,
          up: ['pending', 'running'].includes(state),
          gone: ['shutting-down', 'terminated', 'stopping', 'stopped'].includes(state),
          privateIp: i.PrivateIpAddress ?? '',
        }
      })
    },
    async userData(id) {
      const attr = await ec2.send(new DescribeInstanceAttributeCommand({InstanceId: id, Attribute: 'userData'}))
      return Buffer.from(attr.UserData?.Value ?? '', 'base64').toString('utf8')
    },
  }
}

/** The EC2 emulator's instances on 127.0.7.4-19 (see LoopbackHosts). */
export class Ec2LoopbackHosts extends LoopbackHosts {
  constructor(ec2: EC2Client, prefix: string) {
    super(ec2Machines(ec2), prefix, '127.0.7.')
  }
}
