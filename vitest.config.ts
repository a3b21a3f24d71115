import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'
import type {} from './test/workers/setup/fakes.js' // its ProvidedContext keys, for inject()
import { WORKER_ADMIN_KEY, WORKER_DEEPSEEK_API_KEY, WORKER_LOCAL_MODEL, WORKER_NODE_HOST_SECRET } from './test/workers/constants.js'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts', 'node-host/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/dashboard-assets.ts', 'test/setup/sqld.ts', 'test/setup/node-host-cache.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The Worker (wrangler.toml's main, vars and compatibility date) inside real workerd.
        // sqld and the fakes run in Node (global setups); their URLs arrive as bindings.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                DATABASE_URL: inject('sqldUrl'),
                DEEPSEEK_BASE_URL: inject('fakeDeepSeekUrl'),
                DEEPSEEK_API_KEY: WORKER_DEEPSEEK_API_KEY,
                NODE_HOST_URL: inject('fakeNodeHostUrl'),
                NODE_HOST_SECRET: WORKER_NODE_HOST_SECRET,
                LOCAL_MODELS: WORKER_LOCAL_MODEL,
                ADMIN_KEY: WORKER_ADMIN_KEY,
              },
            },
          })),
        ],
        test: {
          name: 'workers',
          include: ['test/workers/**/*.test.ts'],
          globalSetup: ['test/setup/dashboard-assets.ts', 'test/setup/sqld.ts', 'test/workers/setup/fakes.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Fault injection, hostile input, load: minutes, not seconds, so `npm run test:reliability`
        // runs them (CI too) and `npm test` stays fast. Files run one at a time: they load the machine.
        test: {
          name: 'reliability',
          include: ['test/reliability/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/dashboard-assets.ts', 'test/setup/sqld.ts', 'test/setup/node-host-cache.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
