/**
 * `npm start`: the embedded default. The gateway on Node with a local libSQL file, plus,
 * unless NODE_HOST_URL points at a real one, a node-host on loopback serving a generated
 * demo MoE model (random weights: it talks gibberish, but every byte of the path is real).
 * node-host runs as its own process, restarted if it dies, so a native llama.cpp abort()
 * never takes the gateway down (scripts/node-host-supervisor.ts).
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { count } from 'drizzle-orm'
import { insertKey } from '../src/db/keys.js'
import { teams } from '../src/db/schema.js'
import { insertTeam } from '../src/db/teams.js'
import { ensureTestModel } from '../node-host/gguf/test-models.js'
import { jsonLogger } from '../src/log.js'
import type { RunningGateway } from '../src/node.js'
import { writeDashboardAssets } from './dashboard-assets.js'
import { superviseNodeHost, type SupervisedNodeHost } from './node-host-supervisor.js'

// Before the gateway's modules load (hence the dynamic import): they embed src/dashboard/client/.
writeDashboardAssets()
const { startGateway } = await import('../src/node.js')

const DEMO_MODEL = 'moe-demo'
const env: Record<string, string | undefined> = { ...process.env }
const print = (line: string) => process.stderr.write(`${line}\n`)
const log = jsonLogger(print)
let nodeHost: SupervisedNodeHost | undefined
let gateway: RunningGateway | undefined

// Gateway first, so requests in flight to node-host finish and their usage rows are flushed.
let stopping = false
async function stop(): Promise<void> {
  if (stopping) return // a second Ctrl-C must not kill this script and orphan node-host
  stopping = true
  nodeHost?.stopRestarting()
  let code = 0
  try {
    await gateway?.close()
  } catch (err) {
    print(`error: gateway did not close cleanly: ${err instanceof Error ? err.message : String(err)}`)
    code = 1
  }
  await nodeHost?.stop()
  process.exit(code)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())

if (!env.NODE_HOST_URL) {
  print('Preparing the demo MoE model (generated once, cached under ./data/models)...')
  const modelPath = await ensureTestModel({ layout: 'deepseek2', size: 'demo', dir: join(process.cwd(), 'data/models') })
  env.NODE_HOST_SECRET ??= randomBytes(24).toString('base64url')
  nodeHost = superviseNodeHost({
    serveArgs: ['--model', modelPath, '--model-name', DEMO_MODEL, '--parallel', '2', '--context', '2048'],
    secret: env.NODE_HOST_SECRET,
    env: process.env,
    print,
    // The gateway probes every HEALTH_PROBE_INTERVAL_MS; a ready node-host should not wait that long to be used.
    onReady: () => void gateway?.gateway.localPool?.probeAll(),
  })
  env.NODE_HOST_URL = await nodeHost.listening.catch((err: Error) => {
    print(`error: ${err.message}`)
    return process.exit(1)
  })
  env.LOCAL_MODELS ??= DEMO_MODEL
}

gateway = await startGateway({ env, log })

// The banner waits for the model (about a second): a request while it loads would find local not ready.
if (nodeHost && (await nodeHost.firstLoad)) {
  await gateway.gateway.localPool?.probeAll()
  print(`demo node-host on ${env.NODE_HOST_URL} serving ${DEMO_MODEL} (random weights)`)
}

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
print(`Usage dashboard: ${gateway.url}/dashboard (sign in with an API key)`)
print(`moe-gateway listening on ${gateway.url}`)
