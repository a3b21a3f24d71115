/**
 * `npm start`: the embedded default. The gateway on Node with a local libSQL file, plus,
 * unless NODE_HOST_URL points at a real one, a node-host on loopback serving a generated
 * demo MoE model (random weights: it talks gibberish, but every byte of the path is real).
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { count } from 'drizzle-orm'
import { insertKey } from '../src/db/keys.js'
import { teams } from '../src/db/schema.js'
import { insertTeam } from '../src/db/teams.js'
import { ensureTestModel } from '../node-host/gguf/test-models.js'
import { startNodeHost, type NodeHost } from '../node-host/serve.js'
import { jsonLogger } from '../src/log.js'
import { writeDashboardAssets } from './dashboard-assets.js'

// Before the gateway's modules load (hence the dynamic import): they embed src/dashboard/client/.
writeDashboardAssets()
const { startGateway } = await import('../src/node.js')

const DEMO_MODEL = 'moe-demo'
const env: Record<string, string | undefined> = { ...process.env }
const log = jsonLogger((line) => process.stderr.write(`${line}\n`))
let nodeHost: NodeHost | undefined

if (!env.NODE_HOST_URL) {
  process.stderr.write('Preparing the demo MoE model (generated once, cached under ./data/models)...\n')
  const modelPath = await ensureTestModel({ layout: 'deepseek2', size: 'demo', dir: join(process.cwd(), 'data/models') })
  env.NODE_HOST_SECRET ??= randomBytes(24).toString('base64url')
  nodeHost = await startNodeHost({
    model: modelPath,
    modelName: DEMO_MODEL,
    secret: env.NODE_HOST_SECRET,
    parallel: 2,
    contextSize: 2048,
    log,
    onLoadProgress: (p) => process.stderr.write(`\rloading model ${Math.round(p * 100)}%`),
  })
  process.stderr.write(`\ndemo node-host on ${nodeHost.url} serving ${DEMO_MODEL} (random weights)\n`)
  env.NODE_HOST_URL = nodeHost.url
  env.LOCAL_MODELS ??= DEMO_MODEL
}

const gateway = await startGateway({ env, log })

// First run: a demo team and key, so the first request needs no setup.
const [{ n }] = (await gateway.db.select({ n: count() }).from(teams)) as [{ n: number }]
if (n === 0) {
  const team = await insertTeam(gateway.db, 'demo')
  const { key } = await insertKey(gateway.db, { teamId: team.id, name: 'demo key', role: 'member' })
  process.stderr.write(
    `\nCreated team "demo" with a key (shown once):\n\n  ${key}\n\nTry it:\n\n` +
      `  curl ${gateway.url}/v1/chat/completions -H "authorization: Bearer ${key}" -H "content-type: application/json" \\\n` +
      `    -d '{"model":"${env.LOCAL_MODELS?.split(',')[0] ?? DEMO_MODEL}","messages":[{"role":"user","content":"Hello!"}],"max_tokens":32}'\n\n`,
  )
}
process.stderr.write(`Usage dashboard: ${gateway.url}/dashboard (sign in with an API key)\n`)
process.stderr.write(`moe-gateway listening on ${gateway.url}\n`)

async function stop() {
  await gateway.close()
  await nodeHost?.close()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
