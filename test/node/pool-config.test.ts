import { describe, expect, it } from 'vitest'
import { parseNodeHosts } from '../../src/backends/pool-config.js'
import { parseConfig } from '../../src/config.js'

const SECRET = 'a-long-enough-secret'

describe('NODE_HOSTS', () => {
  it('parses several hosts, trims trailing slashes, and keeps models optional', () => {
    const hosts = parseNodeHosts({ NODE_HOSTS: JSON.stringify([{ name: 'box-a', url: 'https://a.example/', secret: SECRET, models: ['deepseek-r1'] }, { name: 'box-b', url: 'http://b:8090', secret: SECRET }]) })
    expect(hosts).toEqual([
      { name: 'box-a', url: 'https://a.example', secret: SECRET, models: ['deepseek-r1'] },
      { name: 'box-b', url: 'http://b:8090', secret: SECRET },
    ])
  })

  it('keeps NODE_HOST_URL + NODE_HOST_SECRET as a one-host shorthand', () => {
    expect(parseNodeHosts({ NODE_HOST_URL: 'http://box:8090/', NODE_HOST_SECRET: SECRET })).toEqual([{ name: 'node-host', url: 'http://box:8090', secret: SECRET }])
    expect(parseConfig({ NODE_HOST_URL: 'http://box:8090', NODE_HOST_SECRET: SECRET }).defaultBackend).toBe('local-first')
  })

  it.each([
    ['not JSON', '{'],
    ['not an array', '{}'],
    ['a host without a secret', JSON.stringify([{ name: 'a', url: 'http://a' }])],
    ['duplicate names', JSON.stringify([{ name: 'a', url: 'http://a', secret: SECRET }, { name: 'a', url: 'http://b', secret: SECRET }])],
    ['models that are not strings', JSON.stringify([{ name: 'a', url: 'http://a', secret: SECRET, models: [1] }])],
  ])('refuses %s', (_what, value) => {
    expect(() => parseNodeHosts({ NODE_HOSTS: value })).toThrow(/NODE_HOSTS/)
  })

  it('reads the probe and breaker settings with their defaults', () => {
    expect(parseConfig({}).routing).toEqual({ probeIntervalMs: 5000, breakerFailures: 3, breakerCooldownMs: 10_000 })
    expect(parseConfig({ BREAKER_FAILURES: '5' }).routing.breakerFailures).toBe(5)
  })
})
