import {parse, stringify} from 'yaml'

/** What cloud-init sets up on a new instance before cms first connects. */
export interface HostBootstrap {
  /** cloud-init's default user, the one cms logs in as. */
  sshUser: string
  /** The host's SSH key pair, made by cms (OpenSSH private key text, public key line). */
  hostKey: {private: string; public: string}
  /** The cluster's public key (the one cms logs in with). */
  authorizedKey: string
  /** Debian packages the engine needs. */
  packages: string[]
}

/**
 * The instance's user data: cloud-config that installs the host key cms made (so cms knows it before the first
 * connection: no trust on first use), lets the cluster's key in as the default user, and installs the engine's
 * packages. YAML is written by a YAML library, so no value can break out of its field.
 */
export function cloudConfig(b: HostBootstrap): string {
  const config: Record<string, unknown> = {
    system_info: {default_user: {name: b.sshUser}},
    ssh_deletekeys: true,
    ssh_genkeytypes: [],
    ssh_keys: {ed25519_private: ensureNewline(b.hostKey.private), ed25519_public: b.hostKey.public.trim()},
    ssh_authorized_keys: [b.authorizedKey.trim()],
    // disable_root makes cloud-init give root's copy of the key a "log in as USER instead" command: right for any
    // other login user, a lock-out when the login user is root (engines whose daemons need root, e.g. Kubernetes).
    disable_root: b.sshUser !== 'root',
  }
  if (b.packages.length > 0) {
    config.package_update = true
    config.packages = b.packages
  }
  return `#cloud-config\n${stringify(config, {lineWidth: 0})}`
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`
}

/** Reads cms's cloud-config back (a host's user data, as DescribeInstanceAttribute returns it decoded). */
export function readCloudConfig(text: string): HostBootstrap {
  if (!text.startsWith('#cloud-config\n')) throw new Error('the user data is not a cloud-config document')
  const doc = parse(text) as {
    system_info?: {default_user?: {name?: string}}
    ssh_keys?: {ed25519_private?: string; ed25519_public?: string}
    ssh_authorized_keys?: string[]
    packages?: string[]
  } | null
  const hostPrivate = doc?.ssh_keys?.ed25519_private
  const hostPublic = doc?.ssh_keys?.ed25519_public
  const sshUser = doc?.system_info?.default_user?.name
  if (!hostPrivate || !hostPublic || !sshUser) throw new Error('the user data has no host key or default user')
  return {
    sshUser,
    hostKey: {private: hostPrivate, public: hostPublic},
    authorizedKey: doc?.ssh_authorized_keys?.[0] ?? '',
    packages: doc?.packages ?? [],
  }
}

/** The command that waits until cloud-init has finished (packages installed) on a host; a no-op without it. */
export const WAIT_FOR_CLOUD_INIT = [
  'command -v cloud-init >/dev/null 2>&1 || exit 0',
  // 0: done; 2: done with recoverable errors (cloud-init 23.4+); 1: failed.
  'cloud-init status --wait >/dev/null 2>&1 || { rc=$?; [ "$rc" -eq 2 ] && exit 0; cloud-init status --long 2>&1 | tail -n 8 >&2; exit 1; }',
].join('\n')
