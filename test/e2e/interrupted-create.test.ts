import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {aliveWorkers, cms, docker, labelledContainers, makeCmsHome, masterJson, removeClusterContainers, startCms} from './helpers.js'

// A host dies while the cluster is being created: create fails per host and exits non-zero; rerunning the
// same command finishes the cluster; kill removes it.
const NAME = 'e2e-flaky'

describe('a host stopped mid-create', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  beforeAll(async () => removeClusterContainers(NAME))
  afterAll(async () => {
    await removeClusterContainers(NAME)
    cleanup()
  })

  it('fails cleanly, and a rerun completes the cluster', async () => {
    const run = startCms(['cluster', 'create', '-n', NAME, '--hosts', '2', '--connect-timeout', '5'], env)
    let victim: string | undefined
    for (let i = 0; i < 600 && !victim; i++) {
      const worker = (await labelledContainers(NAME)).find((c) => c.role === 'worker' && c.state === 'running')
      if (worker) victim = worker.name
      else await new Promise((r) => setTimeout(r, 100))
    }
    expect(victim).toBeDefined()
    // Past provisioning: the host is now being set up over SSH when it dies.
    await new Promise((r) => setTimeout(r, 1500))
    await docker('stop', '-t', '0', victim!)
    const first = await run.done
    expect(first.code).toBe(1)
    expect(first.stderr).toContain(victim!)
    expect(first.stderr).toMatch(/FAILED/)

    const second = await cms(['cluster', 'create', '-n', NAME, '--hosts', '2'], env)
    expect(second.code, second.stderr).toBe(0)
    const containers = await labelledContainers(NAME)
    expect(containers).toHaveLength(2)
    expect(containers.every((c) => c.state === 'running')).toBe(true)
    const master = await masterJson(containers.find((c) => c.role === 'head')!.ip)
    expect(aliveWorkers(master)).toEqual(containers.map((c) => c.ip).sort())

    const kill = await cms(['cluster', 'kill', '-n', NAME, '--yes'], env)
    expect(kill.code, kill.stderr).toBe(0)
    expect(await labelledContainers(NAME)).toHaveLength(0)
  })
})
