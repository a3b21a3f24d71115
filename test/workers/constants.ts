/** Shared by vitest.config.ts (bindings) and the tests inside workerd: plain values, no imports. */
export const WORKER_ADMIN_KEY = 'mgw_worker_test_admin_key_0123456789'
export const WORKER_NODE_HOST_SECRET = 'worker-node-host-secret-for-tests'
export const WORKER_LOCAL_MODEL = 'local-moe'
/** The key the fake DeepSeek accepts, bound to the Worker as DEEPSEEK_API_KEY. */
export const WORKER_DEEPSEEK_API_KEY = 'sk-worker-test-deepseek'
