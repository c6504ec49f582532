import {
  DescribeImagesCommand,
  type DescribeImagesCommandOutput,
  DescribeInstanceTypesCommand,
  type DescribeInstanceTypesCommandOutput,
  type Image,
  type _InstanceType,
} from '@aws-sdk/client-ec2'
import {AwsInputError, type Ec2Api} from './client.js'

/** The AWS account Debian publishes its official cloud images from (https://wiki.debian.org/Cloud/AmazonEC2Image). */
export const DEBIAN_IMAGE_OWNER = '136693071363'
export const DEFAULT_INSTANCE_TYPE = 'm6i.large'

export type Architecture = 'x86_64' | 'arm64'

/** Debian 12's image names: debian-12-amd64-20250610-2137, debian-12-arm64-... (backports images excluded). */
export function debianImagePattern(arch: Architecture): string {
  return `debian-12-${arch === 'arm64' ? 'arm64' : 'amd64'}-*`
}

/** The newest image: latest CreationDate, then the highest name (Debian's names carry the build date). */
export function newestImage(images: Image[]): Image | undefined {
  return [...images].sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? '') || (b.Name ?? '').localeCompare(a.Name ?? ''))[0]
}

/** Each instance type's architecture, from EC2 (which also rejects types it does not have in the region). */
export async function instanceTypeArchitectures(api: Ec2Api, types: string[]): Promise<Map<string, Architecture>> {
  const unique = [...new Set(types)]
  const out = await api.send<DescribeInstanceTypesCommandOutput>(new DescribeInstanceTypesCommand({InstanceTypes: unique as _InstanceType[]}))
  const archs = new Map<string, Architecture>()
  for (const t of out.InstanceTypes ?? []) {
    const supported = t.ProcessorInfo?.SupportedArchitectures ?? []
    archs.set(String(t.InstanceType), supported.includes('x86_64') || !supported.includes('arm64') ? 'x86_64' : 'arm64')
  }
  const missing = unique.filter((t) => !archs.has(t))
  if (missing.length > 0) throw new AwsInputError(`instance type ${missing.join(', ')} is not offered in ${api.settings.region}`, 'InvalidInstanceType')
  return archs
}

/** The newest Debian 12 image for an architecture, found by owner and name (never a hard-coded id). */
export async function defaultImage(api: Ec2Api, arch: Architecture): Promise<Image> {
  const out = await api.send<DescribeImagesCommandOutput>(
    new DescribeImagesCommand({
      Owners: [DEBIAN_IMAGE_OWNER],
      Filters: [
        {Name: 'name', Values: [debianImagePattern(arch)]},
        {Name: 'state', Values: ['available']},
      ],
    }),
  )
  const image = newestImage(out.Images ?? [])
  if (!image?.ImageId) {
    throw new AwsInputError(`no Debian 12 image (${debianImagePattern(arch)} from account ${DEBIAN_IMAGE_OWNER}) in ${api.settings.region}: pass --ami`, 'NoDefaultImage')
  }
  return image
}

/** The image the user named; EC2 rejects an unknown or malformed id (one line, before anything is made). */
export async function namedImage(api: Ec2Api, id: string): Promise<Image> {
  const out = await api.send<DescribeImagesCommandOutput>(new DescribeImagesCommand({ImageIds: [id]}))
  const image = (out.Images ?? []).find((i) => i.ImageId === id)
  if (!image || (image.State && image.State !== 'available')) {
    throw new AwsInputError(`AMI ${id} is not available in ${api.settings.region}${image?.State ? ` (state ${image.State})` : ''}`, 'InvalidAMIID.NotFound')
  }
  return image
}
