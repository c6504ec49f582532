import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cms, docker, makeCmsHome, startPlainHosts, waitUntil} from './helpers.js'

// Hosts cms did not make, reached as plain SSH hosts: HDFS and YARN on them with the head only coordinating.
const PREFIX = 'cms-e2e-hadoopssh'
const NAME = 'e2e-hadoop-ssh'

async function rm<T>(ip: string, path: string): Promise<T> {
  const res = await fetch(`http://${ip}:8088${path}`, {headers: {accept: 'application/json'}, signal: AbortSignal.timeout(15_000)})
  return (await res.json()) as T
}

describe.skipIf(!process.env.CMS_HADOOP_DIST)('hadoop engine on plain SSH hosts', () => {
  const {home, cleanup} = makeCmsHome()
  const key = join(home, 'id_ed25519')
  const env = {CMS_HOME: home}
  let ips: string[] = []
  let names: string[] = []
  let removeHosts = async () => {}

  beforeAll(async () => {
    ;({names, ips, cleanup: removeHosts} = await startPlainHosts(PREFIX, 2, key))
  })

  afterAll(async () => {
    await removeHosts()
    cleanup()
  })

  it('create --head-compute false: the head runs the NameNode and ResourceManager only', async () => {
    const r = await cms(['cluster', 'create', '-n', NAME, '-p', 'ssh', '-e', 'hadoop', '--head-compute', 'false', '-i', key, ...ips.map((ip) => `root@${ip}`), '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const nodes = (await rm<{nodes: {node: Array<{id: string; state: string}>}}>(ips[0]!, '/ws/v1/cluster/nodes')).nodes.node
    expect(nodes.map((n) => `${n.id} ${n.state}`)).toEqual([`${ips[1]}:8041 RUNNING`])
    expect(await docker('exec', names[0]!, 'sh', '-c', 'pgrep -f -c "[-]Dproc_datanode|[-]Dproc_nodemanager" || true')).toBe('0')
    expect(JSON.parse(r.stdout).cluster.health).toBe('healthy')
  })

  it('kill stops every daemon and every YARN container and removes every file cms installed', async () => {
    // A running application: its ApplicationMaster's container on the worker, started the way Hadoop users do.
    await docker('exec', names[0]!, 'sh', '-c', 'printf "import time\\nfrom pyspark.sql import SparkSession\\nSparkSession.builder.getOrCreate()\\ntime.sleep(600)\\n" > /tmp/sleep.py')
    await docker('exec', names[0]!, 'bash', '-c', `. /root/.cms/clusters/${NAME}/spark-conf/spark-env.sh && "$SPARK_HOME/bin/spark-submit" --name sleeper /tmp/sleep.py > /tmp/submit.log 2>&1`)
    let seen = ''
    await waitUntil('the application runs', async () => {
      const apps = (await rm<{apps: {app?: Array<{name: string; state: string; diagnostics?: string}>} | null}>(ips[0]!, '/ws/v1/cluster/apps')).apps?.app ?? []
      seen = JSON.stringify(apps)
      return apps.some((a) => a.name === 'sleeper' && a.state === 'RUNNING')
    }).catch(async (e: Error) => {
      throw new Error(`${e.message}: ${seen} ${await docker('exec', names[0]!, 'tail', '-5', '/tmp/submit.log')}`)
    })
    expect(Number(await docker('exec', names[1]!, 'sh', '-c', 'pgrep -f -c "[A]pplicationMaster" || true'))).toBeGreaterThan(0)
    const r = await cms(['cluster', 'kill', '-n', NAME, '--yes'], env)
    expect(r.code, r.stderr).toBe(0)
    for (const name of names) {
      expect(await docker('exec', name, 'sh', '-c', 'pgrep -c java || true')).toBe('0')
      expect(await docker('exec', name, 'sh', '-c', 'test -e /root/.cms && echo left || echo clean')).toBe('clean')
    }
    expect((await cms(['cluster', 'info', '-n', NAME], env)).code).toBe(2)
  })
})
