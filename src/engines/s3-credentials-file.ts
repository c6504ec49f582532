import {credentialsFileText, type S3Access} from '../jobs/s3.js'
import type {JobSpec} from '../jobs/spec.js'
import {UsageError} from '../remote/errors.js'
import {mapLimit} from '../remote/fanout.js'
import type {SshSession} from '../remote/session.js'
import {shq} from '../remote/shell.js'

/**
 * S3 credentials for engines whose drivers and executors run as the login user on the cluster's hosts (Spark
 * standalone, Hadoop/YARN): a file in the AWS shared credentials format, 0600 in a 0700 folder of the cluster's files,
 * at the same path on every host, written over SFTP (never on a command line); the job's processes find it through
 * AWS_SHARED_CREDENTIALS_FILE. Every host, because a driver may start on any of them and executors run on all; a
 * Spark property would not do (properties end up on command lines and in job records). The file stays with the
 * cluster's files (a rerun needs it) and goes with `cms cluster kill`. Returns its path.
 */
export async function writeS3CredentialsFile(clusterDir: string, jobId: string, s3: S3Access, targets: Array<{session: SshSession}>): Promise<string> {
  const dir = `${clusterDir}/s3`
  const path = `${dir}/${jobId}.credentials`
  const text = credentialsFileText(s3.credentials)
  await mapLimit(targets, 16, async ({session}) => {
    await session.run(`umask 077 && mkdir -p ${shq(dir)} && chmod 0700 ${shq(dir)}`, {label: 'S3 credentials folder'})
    await session.writeFile(path, text, 0o600)
  })
  return path
}

/**
 * A Spark runtime without hadoop-aws (Apache's own tarballs, a cms runtime built before it carried s3a) would fail the
 * job minutes later with ClassNotFoundException: say so now, unless the spec brings the connector itself.
 */
export async function checkS3Connector(spec: JobSpec, head: SshSession, sparkHome: string, cluster: string): Promise<void> {
  const brings = spec.jars.some((j) => /hadoop-aws/.test(j)) || /hadoop-aws/.test(spec.conf['spark.jars.packages'] ?? '')
  if (brings) return
  const found = await head.exec(`ls ${shq(`${sparkHome}/jars`)} | grep -q '^hadoop-aws-'`)
  if (found.code !== 0) {
    throw new UsageError(
      `job ${spec.name}: the Spark runtime of cluster ${cluster} has no s3a connector (hadoop-aws): create the cluster with a runtime that carries it (scripts/testbed.sh builds one), or add hadoop-aws and the AWS SDK to the spec's jars`,
    )
  }
}
