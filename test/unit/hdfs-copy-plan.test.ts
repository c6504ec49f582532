import {describe, expect, it} from 'vitest'
import {hdfsPath, planCopy, type SourceTree} from '../../src/hdfs/copy-plan.js'

const file = (path: string, bytes = 10): SourceTree => ({path, kind: 'file', bytes, files: [], dirs: []})
const dir = (path: string): SourceTree => ({path, kind: 'dir', bytes: 7, files: [{rel: 'a.txt', bytes: 3}, {rel: 'sub/b.txt', bytes: 4}], dirs: ['sub', 'empty']})
const where = {from: 'here', to: 'in HDFS'}

describe('what put and get copy where', () => {
  it('copies a file as DEST, or into DEST when it is a folder', () => {
    expect(planCopy([file('/l/x.csv')], {path: '/data/y.csv'}, where).copies).toEqual([{from: '/l/x.csv', to: '/data/y.csv', bytes: 10}])
    expect(planCopy([file('/l/x.csv')], {path: '/data', kind: 'dir'}, where).copies).toEqual([{from: '/l/x.csv', to: '/data/x.csv', bytes: 10}])
  })

  it('copies a folder whole, as DEST when DEST does not exist and into it when it is a folder (cp -r)', () => {
    const as = planCopy([dir('/l/in')], {path: '/data/in2'}, where)
    expect(as.dirs).toEqual(['/data/in2', '/data/in2/sub', '/data/in2/empty'])
    expect(as.copies.map((c) => c.to)).toEqual(['/data/in2/a.txt', '/data/in2/sub/b.txt'])
    expect(as.bytes).toBe(7)
    const into = planCopy([dir('/l/in')], {path: '/data', kind: 'dir'}, where)
    expect(into.copies.map((c) => `${c.from} ${c.to}`)).toEqual(['/l/in/a.txt /data/in/a.txt', '/l/in/sub/b.txt /data/in/sub/b.txt'])
  })

  it('refuses several sources without a folder to hold them, a folder onto a file, and two sources onto one target', () => {
    expect(() => planCopy([file('/l/a'), file('/l/b')], {path: '/data/x'}, where)).toThrow('/data/x is not a folder in HDFS: copying 2 sources needs one')
    expect(() => planCopy([dir('/l/in')], {path: '/data/f', kind: 'file'}, where)).toThrow('/data/f is a file in HDFS: cannot copy the folder /l/in onto it')
    expect(() => planCopy([file('/l/a'), file('/m/a')], {path: '/data', kind: 'dir'}, where)).toThrow('two sources would be copied to /data/a in HDFS')
    expect(() => planCopy([], {path: '/data'}, where)).toThrow('nothing to copy')
  })

  it('reads HDFS paths as hdfs dfs does: absolute, or relative to /user/USER; hdfs:// URLs by their path', () => {
    expect(hdfsPath('/data/', 'root')).toBe('/data')
    expect(hdfsPath('in/x.csv', 'admin')).toBe('/user/admin/in/x.csv')
    expect(hdfsPath('', 'admin')).toBe('/user/admin')
    expect(hdfsPath('hdfs://10.0.0.2:8020/data/../logs', 'root')).toBe('/logs')
    expect(hdfsPath('/', 'root')).toBe('/')
  })
})
