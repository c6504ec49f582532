import {afterAll, beforeAll, it} from 'vitest'
import {join} from 'node:path'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {KnownHosts} from '../../../src/remote/known-hosts.js'
import {SshSession} from '../../../src/remote/session.js'
import {freePort, TestSshd} from './sshd-harness.js'
let sshd: TestSshd
beforeAll(async () => { sshd = new TestSshd(await freePort()); await sshd.start(sshd.hostKey('h')) })
afterAll(async () => { await sshd.stop() })
it('dbg', async () => {
  const kh = new KnownHosts({ownFile: join(mkdtempSync(join(tmpdir(), 'x')), 'kh'), userFiles: []})
  const s = await SshSession.connect({host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFiles: [sshd.clientKey]}, {knownHosts: kh, useAgent: false})
  for (let i = 0; i < 5; i++) { const t = performance.now(); await s.exec('true'); console.log('exec ms', performance.now() - t) }
  const t = performance.now(); const r = await s.exec('sleep 5', {timeoutMs: 300}); console.log('timeout', performance.now() - t, r)
  console.log(sshd.stderr)
  s.close()
}, 60000)
