import { describe, expect, it } from 'vitest'
import { newRequestId } from '../../src/auth/request-id.js'

describe('request ids', () => {
  it('are req_ and 32 hex digits, the first 12 the ms they were made in', () => {
    const id = newRequestId(Date.UTC(2026, 11, 4))
    expect(id).toMatch(/^req_[0-9a-f]{32}$/)
    expect(parseInt(id.slice(4, 16), 16)).toBe(Date.UTC(2026, 11, 4))
  })

  it('sort in the order of the times they were made at, whatever their random part', () => {
    const times = Array.from({ length: 2000 }, (_, i) => 1_700_000_000_000 + i * 7 + (i % 3))
    const ids = times.map((t) => newRequestId(t))
    expect([...ids].sort()).toEqual(ids)
  })

  it('differ within one millisecond: 80 random bits', () => {
    const ids = Array.from({ length: 20_000 }, () => newRequestId(1_700_000_000_000))
    expect(new Set(ids).size).toBe(ids.length)
    expect(new Set(ids.map((id) => id.slice(16, 18))).size).toBeGreaterThan(200) // the random part covers its range
  })
})
