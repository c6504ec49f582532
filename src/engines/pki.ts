import {createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate} from 'node:crypto'
import type {KeyObject} from 'node:crypto'
import {isIPv4, isIPv6} from 'node:net'

/**
 * A small X.509 PKI for the clusters cms makes (Nomad's mutual TLS; Kubernetes reuses it): a per-cluster CA and
 * the certificates it issues, ECDSA P-256 with SHA-256, as PEM strings in memory (cms writes them to hosts 0600,
 * never to local disk). Node's crypto makes the keys and signatures; this file only encodes the DER structures
 * (RFC 5280), so nothing has to run on the hosts and no dependency is needed.
 */

export type KeyUsage =
  | 'digitalSignature'
  | 'contentCommitment'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'

export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth'

export interface CertificateRequest {
  commonName: string
  /** Subject O values (Kubernetes reads groups from them). */
  organizations?: string[]
  dnsNames?: string[]
  /** IPv4 or IPv6 addresses. */
  ipAddresses?: string[]
  keyUsages: KeyUsage[]
  extendedKeyUsages?: ExtendedKeyUsage[]
  validityDays: number
  /** Issue time (tests); notBefore is backdated 5 minutes for clock skew between hosts. */
  now?: Date
}

/** A bare key pair, both PEM (PKCS#8 private, SPKI public): e.g. Kubernetes' service-account token signing key. */
export interface SigningKeyPem {
  privateKeyPem: string
  publicKeyPem: string
}

export interface AuthorityRequest {
  commonName: string
  organizations?: string[]
  validityDays: number
  now?: Date
}

/** A certificate and its private key (PKCS#8), both PEM. A CA is one of these too. */
export interface KeyPairPem {
  certificatePem: string
  privateKeyPem: string
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const

const KEY_USAGE_BITS: Record<KeyUsage, number> = {
  digitalSignature: 0,
  contentCommitment: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
}

/** A new self-signed CA: basicConstraints CA (path length 0), keyCertSign + cRLSign + digitalSignature. */
export function createCertificateAuthority(req: AuthorityRequest): KeyPairPem {
  checkName(req.commonName, req.organizations)
  checkValidity(req.validityDays)
  const {privateKey, publicKey} = newKey()
  const subject = encodeName(req.commonName, req.organizations ?? [])
  const keyId = keyIdentifier(publicKey)
  const extensions = [
    extension(OID.basicConstraints, true, seq(bool(true), integer(Buffer.from([0])))),
    extension(OID.keyUsage, true, keyUsageBits(['digitalSignature', 'keyCertSign', 'cRLSign'])),
    extension(OID.subjectKeyIdentifier, false, octets(keyId)),
  ]
  const der = signCertificate({subject, issuer: subject, publicKey, extensions, signer: privateKey, ...validity(req)})
  return {certificatePem: pem('CERTIFICATE', der), privateKeyPem: privateKeyPem(privateKey)}
}

/** A certificate for `req` signed by `ca` (as returned by createCertificateAuthority, or read back from a host). */
export function issueCertificate(ca: KeyPairPem, req: CertificateRequest): KeyPairPem {
  checkName(req.commonName, req.organizations)
  checkValidity(req.validityDays)
  if (req.keyUsages.length === 0) throw new Error('a certificate needs at least one key usage')
  if (req.keyUsages.includes('keyCertSign')) throw new Error('issueCertificate makes leaf certificates; use createCertificateAuthority for a CA')
  const caCert = new X509Certificate(ca.certificatePem)
  if (!caCert.ca) throw new Error('the issuing certificate is not a CA')
  const caKey = createPrivateKey(ca.privateKeyPem)
  if (!caCert.checkPrivateKey(caKey)) throw new Error("the CA's private key does not match its certificate")
  const caParts = readCertificate(caCert.raw)

  const {privateKey, publicKey} = newKey()
  const names = [...(req.dnsNames ?? []).map(dnsName), ...(req.ipAddresses ?? []).map(ipName)]
  const extensions = [
    extension(OID.basicConstraints, true, seq()),
    extension(OID.keyUsage, true, keyUsageBits(req.keyUsages)),
  ]
  if (req.extendedKeyUsages?.length) {
    extensions.push(extension(OID.extKeyUsage, false, seq(...req.extendedKeyUsages.map((u) => oid(OID[u])))))
  }
  if (names.length > 0) extensions.push(extension(OID.subjectAltName, false, seq(...names)))
  extensions.push(extension(OID.subjectKeyIdentifier, false, octets(keyIdentifier(publicKey))))
  const authorityKeyId = caParts.subjectKeyIdentifier ?? keyIdentifier(caCert.publicKey)
  extensions.push(extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, authorityKeyId))))

  const der = signCertificate({
    subject: encodeName(req.commonName, req.organizations ?? []),
    issuer: caParts.subject,
    publicKey,
    extensions,
    signer: caKey,
    ...validity(req),
  })
  return {certificatePem: pem('CERTIFICATE', der), privateKeyPem: privateKeyPem(privateKey)}
}

/** A new ECDSA P-256 key pair with no certificate (JWT signing: ES256). */
export function createSigningKeyPair(): SigningKeyPem {
  const {privateKey, publicKey} = newKey()
  return {privateKeyPem: privateKeyPem(privateKey), publicKeyPem: publicKey.export({type: 'spki', format: 'pem'}).toString()}
}

// --- certificate assembly --------------------------------------------------------------------------------

interface CertificateParts {
  subject: Buffer
  issuer: Buffer
  publicKey: KeyObject
  extensions: Buffer[]
  signer: KeyObject
  notBefore: Date
  notAfter: Date
}

function signCertificate(p: CertificateParts): Buffer {
  const algorithm = seq(oid(OID.ecdsaWithSha256))
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // v3
    integer(serialNumber()),
    algorithm,
    p.issuer,
    seq(time(p.notBefore), time(p.notAfter)),
    p.subject,
    p.publicKey.export({type: 'spki', format: 'der'}),
    tlv(0xa3, seq(...p.extensions)),
  )
  const signature = sign('sha256', tbs, p.signer) // DER ECDSA-Sig-Value, as X.509 wants it
  return seq(tbs, algorithm, bitString(signature))
}

function newKey(): {privateKey: KeyObject; publicKey: KeyObject} {
  return generateKeyPairSync('ec', {namedCurve: 'P-256'})
}

function privateKeyPem(key: KeyObject): string {
  return key.export({type: 'pkcs8', format: 'pem'}).toString()
}

function validity(req: {validityDays: number; now?: Date}): {notBefore: Date; notAfter: Date} {
  const now = req.now ?? new Date()
  // Whole seconds: X.509 times have no fractions.
  const base = Math.floor(now.getTime() / 1000) * 1000
  return {notBefore: new Date(base - 5 * 60_000), notAfter: new Date(base + req.validityDays * 86_400_000)}
}

/** 16 random bytes, positive and minimally encoded (RFC 5280: at most 20 octets, positive). */
function serialNumber(): Buffer {
  const b = randomBytes(16)
  b[0] = (b[0]! & 0x7f) | 0x40
  return b
}

/** RFC 7093 method 1: the leftmost 160 bits of SHA-256 over the subjectPublicKey bits. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({type: 'spki', format: 'der'})
  const keyBits = readSequence(spki)[1]!
  return createHash('sha256').update(keyBits.content.subarray(1)).digest().subarray(0, 20)
}

function encodeName(commonName: string, organizations: string[]): Buffer {
  const rdn = (type: string, value: string) => tlv(0x31, seq(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))))
  return seq(...organizations.map((o) => rdn(OID.organization, o)), rdn(OID.commonName, commonName))
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value))
}

function keyUsageBits(usages: KeyUsage[]): Buffer {
  let bits = 0
  for (const u of usages) bits |= 0x80 >> KEY_USAGE_BITS[u]
  // DER named bit list: no trailing zero bits; the first content byte counts the unused bits of the last one.
  let unused = 0
  while (unused < 7 && !(bits & (1 << unused))) unused++
  return tlv(0x03, Buffer.from([unused, bits]))
}

function dnsName(name: string): Buffer {
  if (!/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(name)) {
    throw new Error(`not a DNS name for a certificate: ${JSON.stringify(name)}`)
  }
  return tlv(0x82, Buffer.from(name, 'ascii'))
}

function ipName(address: string): Buffer {
  return tlv(0x87, ipBytes(address))
}

/** The 4 or 16 bytes of an IP address (an IPv6 address may end in a dotted quad). */
export function ipBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number))
  if (!isIPv6(address)) throw new Error(`not an IP address: ${JSON.stringify(address)}`)
  let text = address.split('%')[0]!
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (quad) {
    const [a, b, c, d] = quad[1]!.split('.').map(Number) as [number, number, number, number]
    text = text.slice(0, -quad[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined]
  const left = head ? head.split(':') : []
  const right = tail === undefined ? [] : tail ? tail.split(':') : []
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}

function checkName(commonName: string, organizations: string[] = []): void {
  for (const v of [commonName, ...organizations]) {
    if (v.length === 0 || v.length > 64) throw new Error(`a certificate name must be 1-64 characters: ${JSON.stringify(v)}`)
  }
}

function checkValidity(days: number): void {
  if (!Number.isInteger(days) || days < 1 || days > 36_500) throw new Error(`validity must be 1-36500 whole days, not ${days}`)
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`
}

// --- DER encoding ----------------------------------------------------------------------------------------

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length
  let len: Buffer
  if (n < 0x80) len = Buffer.from([n])
  else {
    const bytes: number[] = []
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
    len = Buffer.from([0x80 | bytes.length, ...bytes])
  }
  return Buffer.concat([Buffer.from([tag]), len, content])
}

function seq(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items))
}

function octets(b: Buffer): Buffer {
  return tlv(0x04, b)
}

function bool(v: boolean): Buffer {
  return tlv(0x01, Buffer.from([v ? 0xff : 0]))
}

/** An unsigned big-endian INTEGER, minimally encoded. */
function integer(b: Buffer): Buffer {
  let i = 0
  while (i < b.length - 1 && b[i] === 0 && !(b[i + 1]! & 0x80)) i++
  const v = b.subarray(i)
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v)
}

function bitString(b: Buffer): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), b]))
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number)
  const bytes = [parts[0]! * 40 + parts[1]!]
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f]
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80)
    bytes.push(...chunk)
  }
  return tlv(0x06, Buffer.from(bytes))
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString() // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'))
}

// --- DER reading (just enough to take a CA's subject and key identifier) --------------------------------

interface Element {
  tag: number
  content: Buffer
  /** The whole element, header included. */
  raw: Buffer
}

function readElement(buf: Buffer, offset: number): Element {
  const tag = buf[offset]
  let len = buf[offset + 1]
  if (tag === undefined || len === undefined) throw new Error('truncated DER')
  let start = offset + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4) throw new Error('unsupported DER length')
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!
    start += n
  }
  if (start + len > buf.length) throw new Error('truncated DER')
  return {tag, content: buf.subarray(start, start + len), raw: buf.subarray(offset, start + len)}
}

function readSequence(buf: Buffer): Element[] {
  const outer = readElement(buf, 0)
  const items: Element[] = []
  for (let off = 0; off < outer.content.length; ) {
    const e = readElement(outer.content, off)
    items.push(e)
    off += e.raw.length
  }
  return items
}

function readCertificate(der: Buffer): {subject: Buffer; subjectKeyIdentifier?: Buffer} {
  const tbs = readSequence(readSequence(der)[0]!.raw)
  const fields = tbs[0]!.tag === 0xa0 ? tbs.slice(1) : tbs // serial, sigAlg, issuer, validity, subject, spki, ...
  const subject = fields[4]!.raw
  const extensionsTagged = fields.find((e) => e.tag === 0xa3)
  let subjectKeyIdentifier: Buffer | undefined
  if (extensionsTagged) {
    for (const ext of readSequence(extensionsTagged.content)) {
      const parts = readSequence(ext.raw)
      if (parts[0]!.raw.equals(oid(OID.subjectKeyIdentifier))) {
        subjectKeyIdentifier = readElement(parts[parts.length - 1]!.content, 0).content
      }
    }
  }
  return {subject: Buffer.from(subject), subjectKeyIdentifier}
}
