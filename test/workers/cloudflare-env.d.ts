// Types for `import { env, exports } from 'cloudflare:workers'` in the workers tests.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import('../../worker/index.js')
  }
  type WorkerEnv = import('../../worker/env.js').Env
  interface Env extends WorkerEnv {}
}
