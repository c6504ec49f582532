
/** A file inside an instance, read through LXD's file API (as the instance's root). */
export function instanceFile(instance: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({socketPath: lxdSocket(), path: `/1.0/instances/${instance}/files?path=${encodeURIComponent(path)}`, timeout: 30_000}, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c.toString()))
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`LXD file ${instance}:${path}: HTTP ${res.statusCode} ${text}`))))
    })
    req.on('timeout', () => req.destroy(new Error(`LXD file ${instance}:${path}: timed out`)))
    req.on('error', reject)
    req.end()
  })
}
