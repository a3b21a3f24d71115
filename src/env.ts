import type { VerifiedKey } from './auth/key-verifier.js'

/** Hono environment shared by every route and middleware. */
export interface GatewayEnv {
  Variables: {
    key: VerifiedKey
    requestId: string
  }
}
