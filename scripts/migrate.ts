/**
 * Applies the database migrations from Node, e.g. before a Workers deploy:
 *   DATABASE_URL=libsql://<db>.turso.io DATABASE_AUTH_TOKEN=… npm run db:migrate
 * The Worker never migrates: the drizzle migrator reads migration files, which workerd cannot.
 */
import { openNodeDb } from '../src/node/open-db.js'

const url = process.env.DATABASE_URL
if (!url) {
  process.stderr.write('Set DATABASE_URL (libsql://…, https://…, http://… or file:…) and, for Turso, DATABASE_AUTH_TOKEN.\n')
  process.exit(1)
}
const { client } = await openNodeDb(url, { authToken: process.env.DATABASE_AUTH_TOKEN })
client.close()
// Only the scheme and host: the URL may carry an authToken query parameter.
const where = URL.canParse(url) && new URL(url).host ? new URL(url).host : url.split('?')[0]
process.stderr.write(`Migrations applied to ${where}.\n`)
