import { describe, expect, it } from 'vitest'
import { parseNodeHosts } from '../../src/backends/pool-config.js'
import { parseConfig } from '../../src/config.js'

const SECRET = 'a-long-enough-secret'

describe('NODE_HOSTS', () => {
  it('parses several hosts, trims trailing slashes, and keeps models optional', () => {
    const hosts = parseNodeHosts({ NODE_HOSTS: JSON.stringify([{ name: 'box-a', url: 'https://a.example/', secret: SECRET, models: ['deepseek-r1'] }, { name: 'box-b', url: 'http://b:8090', secret: SECRET }]) })
    expect(hosts).toEqual([
      { name: 'box-a', url: 'https://a.example', secret: SECRET, models: ['deepseek-r1'], costNanoUsdPerHour: 0 },
      { name: 'box-b', url: 'http://b:8090', secret: SECRET, costNanoUsdPerHour: 0 },
    ])
  })

  it('keeps NODE_HOST_URL + NODE_HOST_SECRET as a one-host shorthand', () => {
    expect(parseNodeHosts({ NODE_HOST_URL: 'http://box:8090/', NODE_HOST_SECRET: SECRET })).toEqual([{ name: 'node-host', url: 'http://box:8090', secret: SECRET, costNanoUsdPerHour: 0 }])
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

  it("turns each host's cost into one integer nano-USD per hour", () => {
    const hosts = parseNodeHosts({
      NODE_HOSTS: JSON.stringify([
        { name: 'owned', url: 'http://a', secret: SECRET, cost: { hardware_usd: '6000', amortize_months: 36, watts: 450, usd_per_kwh: '0.15' } },
        { name: 'rented', url: 'http://b', secret: SECRET, cost: { hardware_usd_per_hour: 0.23, watts: '450', usd_per_kwh: 0.15 } },
        { name: 'free', url: 'http://c', secret: SECRET },
      ]),
    })
    expect(hosts.map((h) => [h.name, h.costNanoUsdPerHour])).toEqual([['owned', 228_154_232 + 67_500_000], ['rented', 297_500_000], ['free', 0]])
  })

  it('reads the one-host shorthand\'s cost from NODE_HOST_* variables', () => {
    const env = { NODE_HOST_URL: 'http://box:8090', NODE_HOST_SECRET: SECRET }
    expect(parseNodeHosts({ ...env, NODE_HOST_HARDWARE_USD: '6000', NODE_HOST_AMORTIZE_MONTHS: '36', NODE_HOST_WATTS: '450', NODE_HOST_USD_PER_KWH: '0.15' })[0]!.costNanoUsdPerHour).toBe(295_654_232)
    expect(parseNodeHosts({ ...env, NODE_HOST_HARDWARE_USD_PER_HOUR: ' 0.23 ', NODE_HOST_WATTS: '', NODE_HOST_USD_PER_KWH: '0.15' })[0]!.costNanoUsdPerHour).toBe(230_000_000)
    expect(() => parseNodeHosts({ ...env, NODE_HOST_USD_PER_KWH: '15 cents' })).toThrow(/NODE_HOST_USD_PER_KWH/)
    expect(() => parseNodeHosts({ ...env, NODE_HOST_HARDWARE_USD: '6000' })).toThrow(/NODE_HOST_AMORTIZE_MONTHS/)
  })

  it.each([
    ['a cost that is not an object', [], /NODE_HOSTS: "box".cost must be an object/],
    ['a bad price', { usd_per_kwh: '0,15' }, /NODE_HOSTS: "box".cost.usd_per_kwh/],
    ['bad watts', { watts: 'lots' }, /NODE_HOSTS: "box".cost.watts/],
    ['a typo in a field', { hardware_usd_per_hr: '0.2' }, /NODE_HOSTS: "box".cost: unknown field "hardware_usd_per_hr"/],
  ])('refuses %s, naming the host and field', (_what, cost, message) => {
    expect(() => parseNodeHosts({ NODE_HOSTS: JSON.stringify([{ name: 'box', url: 'http://a', secret: SECRET, cost }]) })).toThrow(message)
  })

  it('reads the probe and breaker settings with their defaults', () => {
    expect(parseConfig({}).routing).toEqual({ probeIntervalMs: 5000, breakerFailures: 3, breakerCooldownMs: 10_000 })
    expect(parseConfig({ BREAKER_FAILURES: '5' }).routing.breakerFailures).toBe(5)
  })
})
