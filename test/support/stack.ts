import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { startFakeNodeHost, type FakeNodeHost } from '../fakes/node-host.js'
import { startTestGateway, uniqueName } from './gateway.js'

/** A gateway with both backends: the fake DeepSeek (hosted) and a fake signed node-host (local). */
export interface GatewayStack {
  deepseek: FakeDeepSeek
  local: FakeNodeHost
  gw: RunningGateway
  close(): Promise<void>
}

/**
 * Starts the stack most gateway tests share. `localAs: 'pool'` configures the node-host through
 * NODE_HOSTS (the pool) instead of the NODE_HOST_URL shorthand.
 * @example beforeAll(async () => ({ deepseek, local, gw } = stack = await startGatewayStack({ secret: SECRET })))
 */
export async function startGatewayStack(opts: { secret: string; localAs?: 'url' | 'pool'; env?: Record<string, string> }): Promise<GatewayStack> {
  const deepseek = await startFakeDeepSeek()
  const local = await startFakeNodeHost({ secret: opts.secret })
  const localEnv =
    opts.localAs === 'pool'
      ? { NODE_HOSTS: JSON.stringify([{ name: uniqueName('box'), url: local.url, secret: opts.secret }]) }
      : { NODE_HOST_URL: local.url, NODE_HOST_SECRET: opts.secret }
  const gw = await startTestGateway({ env: { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url, ...localEnv, ...opts.env } })
  return {
    deepseek,
    local,
    gw,
    async close() {
      await gw.close()
      await local.close()
      await deepseek.close()
    },
  }
}
