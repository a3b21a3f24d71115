import { eq } from 'drizzle-orm'
import type { GatewayDb } from '../db/client.js'
import { gatewaySettings } from '../db/schema.js'
import { toHex } from '../signing.js'

const SETTING_NAME = 'dashboard_session_secret'

/**
 * The secret dashboard sessions and CSRF tokens are signed with: DASHBOARD_SESSION_SECRET when
 * the operator set one, else 32 random bytes made once and kept in gateway_settings. Insert-or-
 * ignore then read, so processes and isolates starting together all end up with the first row.
 */
export async function dashboardSecret(db: GatewayDb, configured: string | undefined): Promise<string> {
  if (configured) return configured
  const fresh = toHex(crypto.getRandomValues(new Uint8Array(32)))
  await db.insert(gatewaySettings).values({ name: SETTING_NAME, value: fresh }).onConflictDoNothing()
  const row = await db.select({ value: gatewaySettings.value }).from(gatewaySettings).where(eq(gatewaySettings.name, SETTING_NAME)).get()
  if (!row) throw new Error('dashboard session secret was not stored')
  return row.value
}
