/**
 * Vitest global setup for the workers project, run in Node: workerd cannot listen, so the
 * loopback fakes live here and their URLs reach the Worker as bindings (see vitest.config.ts).
 */
import type { TestProject } from 'vitest/node'
import { startFakeDeepSeek, type FakeDeepSeek } from '../../fakes/deepseek.js'
import { startFakeNodeHost, type FakeNodeHost } from '../../fakes/node-host.js'
import { WORKER_DEEPSEEK_API_KEY, WORKER_LOCAL_MODEL, WORKER_NODE_HOST_SECRET } from '../constants.js'

declare module 'vitest' {
  export interface ProvidedContext {
    fakeDeepSeekUrl: string
    fakeNodeHostUrl: string
  }
}

let deepseek: FakeDeepSeek | undefined
let nodeHost: FakeNodeHost | undefined

export async function setup(project: TestProject): Promise<void> {
  deepseek = await startFakeDeepSeek({ apiKeys: [WORKER_DEEPSEEK_API_KEY] })
  nodeHost = await startFakeNodeHost({ secret: WORKER_NODE_HOST_SECRET, model: WORKER_LOCAL_MODEL })
  project.provide('fakeDeepSeekUrl', deepseek.url)
  project.provide('fakeNodeHostUrl', nodeHost.url)
}

export async function teardown(): Promise<void> {
  await deepseek?.close()
  await nodeHost?.close()
}
