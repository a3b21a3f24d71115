import type { GatewayDb } from '../db/client.js'
import { findKeyByHash } from '../db/keys.js'
import type { BackendMode, KeyRole, TeamRow } from '../db/schema.js'
import { findTeamById } from '../db/teams.js'
import type { BackendName } from '../routing/plan.js'
import { constantTimeEqual } from './constant-time.js'
import { hashApiKey } from './key-material.js'

/** A key that passed verification, with what routing needs of its team. */
export interface VerifiedKey {
  id: string
  name: string
  role: KeyRole
  teamId: string | null
  team: TeamRow | undefined
  expiresAt: number | null
  /** Public model names this key may use; null = any. */
  allowedModels: readonly string[] | null
  /** Backends this key may use; null = any. */
  allowedBackends: readonly BackendName[] | null
  /** This key's routing mode, over its team's; null = the team's. */
  backendMode: BackendMode | null
}

interface CacheEntry {
  key: VerifiedKey | undefined
  expiresAtMs: number
}

const MAX_CACHED_KEYS = 10_000
// Unknown keys are remembered briefly too, so a client retrying a bad key does not hit the database each time.
const NEGATIVE_TTL_MS = 2_000

/**
 * Verifies API keys against the database, caching results in memory for at most `ttlMs`,
 * so a key revoked elsewhere stops working within that bound without a round trip per request.
 * @example const key = await verifier.verify(bearerToken(header))
 */
export class KeyVerifier {
  private readonly cache = new Map<string, CacheEntry>()
  private readonly adminKeyHash: Promise<string | undefined>

  constructor(
    private readonly db: GatewayDb,
    private readonly opts: { ttlMs: number; adminKey?: string; now?: () => number; hashKey?: (key: string) => string | Promise<string> },
  ) {
    this.hash = opts.hashKey ?? hashApiKey
    this.adminKeyHash = opts.adminKey ? Promise.resolve(this.hash(opts.adminKey)) : Promise.resolve(undefined)
  }

  private readonly hash: (key: string) => string | Promise<string>

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now()
  }

  async verify(token: string | undefined): Promise<VerifiedKey | undefined> {
    if (!token || token.length > 200) return undefined
    const hash = await this.hash(token)
    const adminHash = await this.adminKeyHash
    if (adminHash && constantTimeEqual(hash, adminHash)) return OPERATOR_ADMIN
    const now = this.now()
    const cached = this.cache.get(hash)
    const entry = cached && cached.expiresAtMs > now ? cached : await this.load(hash, now)
    const key = entry.key
    if (key?.expiresAt != null && key.expiresAt <= now) return undefined
    return key
  }

  /** Drops cached entries of a key or a team, after a change made through this process. */
  forget(match: { keyId?: string; teamId?: string }): void {
    for (const [hash, entry] of this.cache) {
      if (entry.key && (entry.key.id === match.keyId || (match.teamId && entry.key.teamId === match.teamId))) this.cache.delete(hash)
    }
  }

  private async load(hash: string, now: number): Promise<CacheEntry> {
    const row = await findKeyByHash(this.db, hash)
    let key: VerifiedKey | undefined
    if (row && row.revokedAt === null) {
      const team = row.teamId ? await findTeamById(this.db, row.teamId) : undefined
      key = {
        id: row.id,
        name: row.name,
        role: row.role,
        teamId: row.teamId,
        team,
        expiresAt: row.expiresAt,
        allowedModels: row.allowedModels ?? null,
        allowedBackends: (row.allowedBackends as BackendName[] | null) ?? null,
        backendMode: row.backendMode,
      }
    }
    const entry = { key, expiresAtMs: now + (key ? this.opts.ttlMs : Math.min(NEGATIVE_TTL_MS, this.opts.ttlMs)) }
    if (this.cache.size >= MAX_CACHED_KEYS) {
      const oldest = this.cache.keys().next().value
      if (oldest !== undefined) this.cache.delete(oldest)
    }
    this.cache.set(hash, entry)
    return entry
  }
}

/** The id the operator's ADMIN_KEY acts under (it has no database row). */
export const OPERATOR_ADMIN_KEY_ID = 'admin_env'

/** The operator's ADMIN_KEY: gateway-wide admin, in no team. */
const OPERATOR_ADMIN: VerifiedKey = { id: OPERATOR_ADMIN_KEY_ID, name: 'ADMIN_KEY', role: 'admin', teamId: null, team: undefined, expiresAt: null, allowedModels: null, allowedBackends: null, backendMode: null }
