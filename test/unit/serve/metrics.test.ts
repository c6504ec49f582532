import {describe, expect, it} from 'vitest'
import type {ClusterStatus} from '../../../src/serve/clusters.js'
import {prometheusText} from '../../../src/serve/http/metrics.js'

const c1: ClusterStatus = {name: 'c1', provider: 'docker', engine: 'spark', health: 'healthy', capacity: {cores: 8, memoryMb: 16384, usedCores: 3, usedMemoryMb: 1024}, checkedAt: 0}
const c2: ClusterStatus = {name: 'c2', provider: 'ssh', engine: 'nomad', health: 'down', down: 'ssh: connect ETIMEDOUT', checkedAt: 0}

describe('prometheusText', () => {
  it('every metric with its HELP and TYPE, every state (0 when absent), one sample per line, a final newline', () => {
    const text = prometheusText({
      counts: [
        {state: 'QUEUED', n: 3},
        {state: 'RUNNING', n: 1},
      ],
      queue: {
        depth: [
          {cluster: 'c1', priority: 5, queued: 2, oldestWaitSeconds: 12.5},
          {cluster: 'c2', priority: 0, queued: 1, oldestWaitSeconds: 0.25},
        ],
      },
      requestCounts: new Map([
        ['GET /task/:id 200', 4],
        ['POST /tasks 422', 1],
      ]),
      clusters: [c1, c2],
    })
    expect(text).toBe(
      [
        '# HELP cms_serve_tasks Tasks by state.',
        '# TYPE cms_serve_tasks gauge',
        'cms_serve_tasks{state="QUEUED"} 3',
        'cms_serve_tasks{state="SUBMITTED"} 0',
        'cms_serve_tasks{state="RUNNING"} 1',
        'cms_serve_tasks{state="SUCCEEDED"} 0',
        'cms_serve_tasks{state="FAILED"} 0',
        'cms_serve_tasks{state="KILLED"} 0',
        'cms_serve_tasks{state="DEAD"} 0',
        '# HELP cms_serve_queue_depth Queued tasks by first-choice cluster and priority.',
        '# TYPE cms_serve_queue_depth gauge',
        'cms_serve_queue_depth{cluster="c1",priority="5"} 2',
        'cms_serve_queue_depth{cluster="c2",priority="0"} 1',
        '# HELP cms_serve_queue_oldest_wait_seconds Age of the oldest queued task by cluster and priority.',
        '# TYPE cms_serve_queue_oldest_wait_seconds gauge',
        'cms_serve_queue_oldest_wait_seconds{cluster="c1",priority="5"} 12.5',
        'cms_serve_queue_oldest_wait_seconds{cluster="c2",priority="0"} 0.25',
        '# HELP cms_serve_cluster_up Whether the cluster answered its last check.',
        '# TYPE cms_serve_cluster_up gauge',
        'cms_serve_cluster_up{cluster="c1",engine="spark"} 1',
        'cms_serve_cluster_up{cluster="c2",engine="nomad"} 0',
        '# HELP cms_serve_cluster_free_cores Cores free on the cluster at its last check, as its engine reports them.',
        '# TYPE cms_serve_cluster_free_cores gauge',
        'cms_serve_cluster_free_cores{cluster="c1"} 5',
        '# HELP cms_serve_http_requests_total Requests served, by method, route and status.',
        '# TYPE cms_serve_http_requests_total counter',
        'cms_serve_http_requests_total{method="GET",route="/task/:id",status="200"} 4',
        'cms_serve_http_requests_total{method="POST",route="/tasks",status="422"} 1',
        '',
      ].join('\n'),
    )
  })

  it('escapes backslashes, quotes and newlines in label values', () => {
    const text = prometheusText({counts: [], queue: {depth: []}, requestCounts: new Map([['GET /a"b\\c\nd 404', 2]]), clusters: []})
    expect(text.split('\n').filter((l) => l.startsWith('cms_serve_http_requests_total'))).toEqual(['cms_serve_http_requests_total{method="GET",route="/a\\"b\\\\c\\nd",status="404"} 2'])
  })

  it('no samples: HELP and TYPE only; a value that is not a finite number is written 0; counts given as strings are numbers', () => {
    const text = prometheusText({
      counts: [{state: 'DEAD', n: '7' as unknown as number}],
      queue: {depth: [{cluster: 'c1', priority: 1, queued: 1, oldestWaitSeconds: Number.NaN}]},
      requestCounts: new Map(),
      clusters: [],
    })
    const lines = text.split('\n')
    expect(lines).toContain('cms_serve_tasks{state="DEAD"} 7')
    expect(lines).toContain('cms_serve_queue_oldest_wait_seconds{cluster="c1",priority="1"} 0')
    expect(lines.slice(-7)).toEqual([
      '# HELP cms_serve_cluster_up Whether the cluster answered its last check.',
      '# TYPE cms_serve_cluster_up gauge',
      '# HELP cms_serve_cluster_free_cores Cores free on the cluster at its last check, as its engine reports them.',
      '# TYPE cms_serve_cluster_free_cores gauge',
      '# HELP cms_serve_http_requests_total Requests served, by method, route and status.',
      '# TYPE cms_serve_http_requests_total counter',
      '',
    ])
  })
})
