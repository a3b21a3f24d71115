import type { LibSQLDatabase } from 'drizzle-orm/libsql'
import type * as schema from './schema.js'

/** The drizzle handle every query module takes; the same over `file:`, sqld and Turso. */
export type GatewayDb = LibSQLDatabase<typeof schema>
