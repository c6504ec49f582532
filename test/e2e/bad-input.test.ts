import {readdirSync} from 'node:fs'
import {afterAll, describe, expect, it} from 'vitest'
import {cms, madeForNamesIn, makeCmsHome} from './helpers.js'

// Bad input: one clear line, exit code 2, and nothing created anywhere.
describe('hostile and invalid input', () => {
  const {home, cleanup} = makeCmsHome()
  // No AWS region or profile from the machine: the aws cases below must fail on their own input.
  const env = {CMS_HOME: home, AWS_REGION: '', AWS_DEFAULT_REGION: '', AWS_PROFILE: '', AWS_CONFIG_FILE: '/nonexistent/aws-config'}
  afterAll(cleanup)

  const cases: Array<[string, string[]]> = [
    ['shell metacharacters in a name', ['cluster', 'create', '-n', 'x;touch /tmp/cms-pwned']],
    ['command substitution in a name', ['cluster', 'create', '-n', '$(id)']],
    ['path traversal in a name', ['cluster', 'create', '-n', '../etc']],
    ['uppercase name', ['cluster', 'create', '-n', 'Prod']],
    ['overlong name', ['cluster', 'create', '-n', 'a'.repeat(40)]],
    ['zero hosts', ['cluster', 'create', '-n', 'ok-name', '--hosts', '0']],
    ['unknown provider', ['cluster', 'create', '-n', 'ok-name', '-p', 'gcp']],
    ['hostile ssh host', ['cluster', 'create', '-n', 'ok-name', '-p', 'ssh', 'root@h;id']],
    ['ssh provider without hosts', ['cluster', 'create', '-n', 'ok-name', '-p', 'ssh']],
    ['worker memory without a unit', ['cluster', 'create', '-n', 'ok-name', '--worker-memory', '4096']],
    ['missing Spark distribution', ['cluster', 'create', '-n', 'ok-name', '--spark-dist', '/nonexistent/spark.tgz']],
    ['unknown cluster info', ['cluster', 'info', '-n', 'no-such-cluster']],
    ['unknown cluster kill', ['cluster', 'kill', '-n', 'no-such-cluster', '--yes']],
    ['unknown cluster add', ['cluster', 'add', '-n', 'no-such-cluster']],
    ['unknown cluster ssh', ['cluster', 'ssh', '-n', 'no-such-cluster', '--', 'true']],
    ['unknown cluster run', ['cluster', 'run', '-n', 'no-such-cluster', '--', 'true']],
    ['unknown cluster notebook', ['notebook', '-n', 'no-such-cluster']],
    ['notebook --open with --stop', ['notebook', '-n', 'ok-name', '--open', '--stop']],
    ['unknown cluster copy', ['cluster', 'copy', '-n', 'no-such-cluster', 'package.json', '/tmp/']],
    ['run without a command', ['cluster', 'run', '-n', 'ok-name']],
    ['run with words before --', ['cluster', 'run', '-n', 'ok-name', 'uptime']],
    ['ssh to two hosts', ['cluster', 'ssh', '-n', 'ok-name', 'host-a', 'host-b']],
    ['copy of a missing local file', ['cluster', 'copy', '-n', 'ok-name', '/nonexistent/file', '/tmp/']],
    ['copy of a folder', ['cluster', 'copy', '-n', 'ok-name', '/tmp', '/tmp/']],
    ['command substitution in a name (ssh)', ['cluster', 'ssh', '-n', '$(id)']],
    ['unknown flag', ['cluster', 'list', '--bogus']],
    ['aws flag with the docker provider', ['cluster', 'create', '-n', 'ok-name', '--spot']],
    ['aws without a region', ['cluster', 'create', '-n', 'ok-name', '-p', 'aws']],
    ['malformed aws region', ['cluster', 'create', '-n', 'ok-name', '-p', 'aws', '--region', 'mars;id']],
    ['malformed AMI id', ['cluster', 'create', '-n', 'ok-name', '-p', 'aws', '--region', 'us-east-1', '--ami', 'ami-$(id)']],
    ['malformed max age', ['cluster', 'create', '-n', 'ok-name', '-p', 'aws', '--region', 'us-east-1', '--max-age', 'forever']],
    ['world-open SSH CIDR typo', ['cluster', 'create', '-n', 'ok-name', '-p', 'aws', '--region', 'us-east-1', '--ssh-cidr', '0.0.0.0']],
    ['aws: a login other than root for Kubernetes', ['cluster', 'create', '-n', 'ok-name', '-p', 'aws', '--region', 'us-east-1', '-e', 'kubernetes', '--ssh-user', 'admin']],
    ['ssh hosts with the aws provider', ['cluster', 'create', '-n', 'ok-name', '-p', 'aws', '--region', 'us-east-1', 'root@10.0.0.1']],
    ['attach: a kubeconfig that is not there', ['cluster', 'attach', '-n', 'ok-name', '--kubeconfig', '/nonexistent/kubeconfig']],
    ['attach: a Kubernetes and a Nomad cluster at once', ['cluster', 'attach', '-n', 'ok-name', '--kubeconfig', '/etc/hostname', '--nomad-addr', 'https://127.0.0.1:4646']],
    ['attach: a Nomad address that is no http(s) URL', ['cluster', 'attach', '-n', 'ok-name', '--nomad-addr', 'ftp://127.0.0.1:4646']],
    ['attach: neither a kubeconfig nor a Nomad address', ['cluster', 'attach', '-n', 'ok-name']],
    ['detach: a cluster that is not attached', ['cluster', 'detach', '-n', 'ok-name']],
    ['missing Hadoop runtime for HDFS on Kubernetes', ['cluster', 'create', '-n', 'ok-name', '-e', 'kubernetes', '--hdfs', '--hadoop-dist', '/nonexistent/hadoop.tgz']],
    ['Hadoop runtime without --hdfs on Kubernetes', ['cluster', 'create', '-n', 'ok-name', '-e', 'kubernetes', '--hadoop-dist', '/nonexistent/hadoop.tgz']],
    ['Spark runtime for the Hadoop image', ['image', 'build', 'hadoop', '--spark-dist', '/nonexistent/spark.tgz']],
  ]

  it.each(cases)('%s: exit 2, one line, nothing created', async (_label, args) => {
    const before = await madeForNamesIn(args)
    const r = await cms(args, env)
    expect(r.code, r.stderr).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().length).toBeGreaterThan(0)
    expect(await madeForNamesIn(args)).toBe(before)
    expect(readdirSync(home)).toEqual([])
  })

  it('--json errors are JSON with exit 2', async () => {
    const r = await cms(['cluster', 'create', '-n', 'Bad Name', '--json'], env)
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error.kind).toBe('usage')
  })
})
