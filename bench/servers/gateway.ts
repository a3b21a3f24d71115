// The gateway on Node, over a fresh libSQL file, with one hosted team and key; prints URL and key.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { insertKey } from '../../src/db/keys.js'
import { insertTeam, updateTeamRouting } from '../../src/db/teams.js'
import { silentLogger } from '../../src/log.js'
import { startGateway } from '../../src/node.js'

const upstream = process.argv[2]!
const gw = await startGateway({
  env: { DATABASE_URL: `file:${join(mkdtempSync(join(tmpdir(), 'moe-bench-')), 'g.db')}`, ADMIN_KEY: 'mgw_bench_admin_key_0123456789', DEEPSEEK_API_KEY: 'sk-fake-deepseek', DEEPSEEK_BASE_URL: upstream },
  port: 0,
  log: silentLogger,
})
const team = await insertTeam(gw.db, 'bench')
await updateTeamRouting(gw.db, team.id, { backendMode: 'hosted' })
const { key } = await insertKey(gw.db, { teamId: team.id, name: 'bench', role: 'member' })
process.stdout.write(`READY ${gw.url} ${key}\n`)
process.on('SIGTERM', () => void gw.close().then(() => process.exit(0)))
