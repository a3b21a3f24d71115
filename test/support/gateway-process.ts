/**
 * The Node gateway in its own process, so a test can read its memory and file descriptors
 * from outside (/proc/<pid>). One hosted team and key; SIGTERM closes it (flushing usage rows).
 *
 * tsx test/support/gateway-process.ts <DATABASE_URL> <DEEPSEEK_BASE_URL>
 * prints `READY <url> <key> <teamId>` on stdout.
 */
import { insertKey } from '../../src/db/keys.js'
import { insertTeam, updateTeamRouting } from '../../src/db/teams.js'
import { silentLogger } from '../../src/log.js'
import { startGateway } from '../../src/node.js'

const [databaseUrl, upstreamUrl] = process.argv.slice(2)
if (!databaseUrl || !upstreamUrl) throw new Error('usage: gateway-process.ts <DATABASE_URL> <DEEPSEEK_BASE_URL>')
const gw = await startGateway({
  env: { DATABASE_URL: databaseUrl, ADMIN_KEY: 'mgw_load_admin_key_0123456789', DEEPSEEK_API_KEY: 'sk-fake-deepseek', DEEPSEEK_BASE_URL: upstreamUrl },
  port: 0,
  log: silentLogger,
})
const team = await insertTeam(gw.db, `load-${Math.random().toString(36).slice(2, 10)}`)
await updateTeamRouting(gw.db, team.id, { backendMode: 'hosted' })
const { key } = await insertKey(gw.db, { teamId: team.id, name: 'load', role: 'member' })
process.stdout.write(`READY ${gw.url} ${key} ${team.id}\n`)
process.once('SIGTERM', () => void gw.close().then(() => process.exit(0)))
