import {createCertificateAuthority, issueCertificate} from './pki.js'
import type {KeyPairPem} from './pki.js'

/**
 * The certificates of a cms Nomad cluster's mutual TLS (the agent's `tls` block with verify_server_hostname
 * and verify_https_client), as verified against Nomad 1.11:
 * - RPC: an agent accepts a peer only if a DNS SAN (or the CN) is `server.<region>.nomad` or
 *   `client.<region>.nomad` ("invalid role or region for certificate" otherwise), and an agent calling a server
 *   checks the server's certificate for the DNS SAN `server.<region>.nomad` (Go ignores the CN).
 * - HTTPS API: any certificate from the cluster CA whose extended key usage allows clientAuth (or that has none)
 *   is accepted as a client; the caller verifies the agent against `server.<region>.nomad` (or an IP SAN).
 */

export const NOMAD_CA_DAYS = 3650
export const NOMAD_CERT_DAYS = 3650

export function nomadCertificateAuthority(clusterName: string, now?: Date): KeyPairPem {
  return createCertificateAuthority({commonName: `cms ${clusterName} Nomad CA`.slice(0, 64), organizations: ['cms'], validityDays: NOMAD_CA_DAYS, now})
}

/** The name servers present and callers verify: `server.<region>.nomad`. */
export function nomadServerName(region: string): string {
  return `server.${region}.nomad`
}

/**
 * An agent's certificate. `role` server for a server agent (a combined server+client agent too), client for a
 * client-only agent. SANs: the role name, localhost, the host's private address and 127.0.0.1, so the HTTPS API
 * can be verified by name or address.
 */
export function nomadAgentCertificate(
  ca: KeyPairPem,
  opts: {role: 'server' | 'client'; region: string; addresses: string[]; now?: Date},
): KeyPairPem {
  const name = `${opts.role}.${opts.region}.nomad`
  return issueCertificate(ca, {
    commonName: name,
    dnsNames: [name, 'localhost'],
    ipAddresses: [...new Set([...opts.addresses, '127.0.0.1'])],
    keyUsages: ['digitalSignature', 'keyEncipherment'],
    // Agents are TLS servers (HTTP, RPC) and TLS clients (RPC to servers) at once.
    extendedKeyUsages: ['serverAuth', 'clientAuth'],
    validityDays: NOMAD_CERT_DAYS,
    now: opts.now,
  })
}

/** The certificate cms (and a user's `nomad` CLI through `cms cluster tunnel`) presents to the HTTPS API. */
export function nomadCliCertificate(ca: KeyPairPem, opts: {region: string; now?: Date}): KeyPairPem {
  return issueCertificate(ca, {
    commonName: `cli.${opts.region}.nomad`,
    keyUsages: ['digitalSignature'],
    extendedKeyUsages: ['clientAuth'],
    validityDays: NOMAD_CERT_DAYS,
    now: opts.now,
  })
}
