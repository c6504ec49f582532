import {afterAll, beforeAll, describe, expect} from 'vitest'
import {cms, labelledContainers, makeCmsHome, removeClusterContainers} from './helpers.js'
import {notebookCases, type Hosts} from './notebook.cases.js'

// `cms notebook` on Spark standalone (notebook.cases.ts); the Hadoop and Kubernetes cases run on the clusters of
// hadoop.test.ts and kubernetes-spark.test.ts.
const NAME = 'notebook-e2e-spark'

interface SparkExecutor {
  id: string
  hostPort: string
  totalTasks: number
}

describe('cms notebook on a 2-host Spark standalone cluster', () => {
  const {home, cleanup} = makeCmsHome()
  const env = {CMS_HOME: home}
  let hosts: Hosts = {headIp: '', head: '', ips: []}

  beforeAll(async () => {
    await removeClusterContainers(NAME)
    const r = await cms(['cluster', 'create', '-n', NAME, '--hosts', '2'], env)
    if (r.code !== 0) throw new Error(`create failed: ${r.stderr}`)
    const containers = await labelledContainers(NAME)
    const head = containers.find((h) => h.role === 'head')!
    hosts = {headIp: head.ip, head: head.name, ips: containers.map((h) => h.ip)}
  })

  afterAll(async () => {
    await cms(['cluster', 'kill', '-n', NAME, '--yes'], env)
    await removeClusterContainers(NAME)
    cleanup()
  })

  notebookCases({
    title: 'JupyterLab on the head, executors on the workers',
    name: NAME,
    env,
    hosts: () => hosts,
    // The driver's own REST API (port 4040 on the head: the kernel's driver): its executors run on the workers.
    executors: async ({headIp, ips: workerIps}) => {
      const apps = (await (await fetch(`http://${headIp}:4040/api/v1/applications`, {signal: AbortSignal.timeout(15_000)})).json()) as Array<{id: string}>
      expect(apps).toHaveLength(1)
      const executors = (await (await fetch(`http://${headIp}:4040/api/v1/applications/${apps[0]!.id}/executors`, {signal: AbortSignal.timeout(15_000)})).json()) as SparkExecutor[]
      const onWorkers = executors.filter((e) => e.id !== 'driver')
      expect(onWorkers.length).toBeGreaterThan(0)
      for (const e of onWorkers) expect(workerIps).toContain(e.hostPort.split(':')[0])
      expect(onWorkers.reduce((n, e) => n + e.totalTasks, 0)).toBeGreaterThan(0)
      // The master lists the notebook's application as running.
      const master = (await (await fetch(`http://${headIp}:8080/json/`, {signal: AbortSignal.timeout(15_000)})).json()) as {activeapps: Array<{id: string; cores: number}>}
      expect(master.activeapps.find((a) => a.id === apps[0]!.id)?.cores).toBeGreaterThan(0)
    },
  })
})
