/**
 * What is deployed is what is tested: the exact bundle `wrangler deploy --dry-run` produces,
 * run by Miniflare (real workerd) with wrangler.toml's compatibility settings and vars,
 * against the shared sqld and loopback fakes.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createClient, type Client } from '@libsql/client'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { unstable_readConfig } from 'wrangler'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { startFakeNodeHost, type FakeNodeHost } from '../fakes/node-host.js'
import { ADMIN_KEY, uniqueName } from '../support/gateway.js'
import { waitFor } from '../support/net.js'

const SECRET = 'bundle-test-node-host-secret'
const WRANGLER = join(process.cwd(), 'node_modules/wrangler/bin/wrangler.js')

let outDir: string
let mf: Miniflare
let deepseek: FakeDeepSeek
let local: FakeNodeHost
let sqld: Client

/** Runs `wrangler deploy --dry-run` offline and returns the bundled script's path. */
async function buildDeployBundle(dir: string): Promise<string> {
  await promisify(execFile)(process.execPath, [WRANGLER, 'deploy', '--dry-run', '--outdir', dir], {
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
    timeout: 90_000,
  })
  return join(dir, 'index.js')
}

/** wrangler.toml's [vars] as strings (Miniflare bindings), so defaults are tested too. */
function tomlVars(vars: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]))
}

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'moe-worker-bundle-'))
  const [scriptPath, fakeDeepSeek, fakeLocal] = await Promise.all([
    buildDeployBundle(outDir),
    startFakeDeepSeek(),
    startFakeNodeHost({ secret: SECRET }),
  ])
  deepseek = fakeDeepSeek
  local = fakeLocal
  const config = unstable_readConfig({ config: join(process.cwd(), 'wrangler.toml') })
  mf = new Miniflare({
    modules: true,
    modulesRoot: outDir, // module names are relative to it; the bundle lives in a temp dir
    scriptPath,
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    bindings: {
      ...tomlVars(config.vars),
      DATABASE_URL: inject('sqldUrl'),
      DEEPSEEK_BASE_URL: deepseek.url,
      DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY,
      NODE_HOST_URL: local.url,
      NODE_HOST_SECRET: SECRET,
      LOCAL_MODELS: 'local-moe',
      ADMIN_KEY,
    },
  })
  await mf.ready
  sqld = createClient({ url: inject('sqldUrl') })
}, 120_000)

afterAll(async () => {
  await mf?.dispose()
  await deepseek?.close()
  await local?.close()
  sqld?.close()
  if (outDir) rmSync(outDir, { recursive: true, force: true })
})

async function call(path: string, key: string, method = 'GET', body?: unknown) {
  return mf.dispatchFetch(`http://gateway.test${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

async function teamWithKey(mode: string): Promise<{ teamId: string; key: string }> {
  const team = uniqueName('bundle')
  const created = await call('/admin/teams', ADMIN_KEY, 'POST', { name: team })
  expect(created.status).toBe(201)
  const { id: teamId } = (await created.json()) as { id: string }
  expect((await call(`/admin/teams/${team}`, ADMIN_KEY, 'PATCH', { backend_mode: mode })).ok).toBe(true)
  const keyRes = await call('/admin/keys', ADMIN_KEY, 'POST', { team, name: 'bundle-key' })
  expect(keyRes.status).toBe(201)
  return { teamId, key: ((await keyRes.json()) as { key: string }).key }
}

/** Usage rows are written in waitUntil after the response: poll sqld until `count` are there. */
async function usageRowsOf(teamId: string, count: number) {
  return waitFor(async () => {
    const { rows } = await sqld.execute({ sql: 'SELECT id, backend, status, streamed, completion_tokens, cost_nano_usd FROM usage WHERE team_id = ? ORDER BY created_at', args: [teamId] })
    return rows.length >= count ? rows : undefined
  }, 10_000, `${count} usage rows`)
}

describe('the deployed Worker bundle in workerd', () => {
  it('serves hosted non-streamed and streamed, and local (signed) completions, writing usage rows to sqld', async () => {
    const hosted = await teamWithKey('hosted')
    const plain = await call('/v1/chat/completions', hosted.key, 'POST', { model: 'deepseek-flash', messages: [{ role: 'user', content: 'bundle hello' }] })
    expect(plain.status).toBe(200)
    expect(plain.headers.get('x-moe-backend')).toBe('hosted')
    expect(((await plain.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe('This is the fake DeepSeek answer.')

    const streamed = await call('/v1/chat/completions', hosted.key, 'POST', { model: 'deepseek-flash', stream: true, messages: [{ role: 'user', content: 'bundle stream' }] })
    expect(streamed.headers.get('content-type')).toContain('text/event-stream')
    const sse = await streamed.text()
    expect(sse).toContain('"content":"This')
    expect(sse.trimEnd().endsWith('data: [DONE]')).toBe(true)

    const rows = await usageRowsOf(hosted.teamId, 2)
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining([plain.headers.get('x-request-id'), streamed.headers.get('x-request-id')]))
    for (const row of rows) {
      expect(row).toMatchObject({ backend: 'hosted', status: 200 })
      expect(Number(row.cost_nano_usd)).toBeGreaterThan(0)
    }
    expect(rows.map((r) => Number(r.streamed)).sort()).toEqual([0, 1])

    const localTeam = await teamWithKey('local')
    const fromBox = await call('/v1/chat/completions', localTeam.key, 'POST', { model: 'local-moe', messages: [{ role: 'user', content: 'hi box' }] })
    expect(fromBox.headers.get('x-moe-backend')).toBe('local')
    expect(((await fromBox.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe('Local answer from the box.')
    expect(local.requests.at(-1)?.verified).toBeUndefined() // signature checked and accepted
    const [localRow] = await usageRowsOf(localTeam.teamId, 1)
    expect(localRow).toMatchObject({ backend: 'local', status: 200, cost_nano_usd: 0 })
  })

  it('serves a burst of concurrent database-bound requests in one isolate without hanging', async () => {
    // More than @libsql/client's default queue of 20: queued queries used to hang (worker/gateway.ts).
    const burst = Array.from({ length: 60 }, () => call('/v1/models', `mgw_unknown_${crypto.randomUUID()}`))
    const statuses = await Promise.all(burst.map(async (pending) => (await pending).status))
    expect(statuses.filter((s) => s !== 401)).toEqual([])
  })

  it('answers 401 to a bad key and lists models to a good one', async () => {
    expect((await call('/v1/models', 'mgw_wrong_key_0000000000000000')).status).toBe(401)
    const { key } = await teamWithKey('hosted')
    const models = (await (await call('/v1/models', key)).json()) as { data: Array<{ id: string }> }
    expect(models.data.map((m) => m.id)).toEqual(expect.arrayContaining(['deepseek-flash', 'local-moe']))
  })
})
