// The loopback fake DeepSeek API, in its own process, for benchmarks.
import { startFakeDeepSeek } from '../../test/fakes/deepseek.js'

const fake = await startFakeDeepSeek({ thinkingByDefault: false, recordRequests: false })
process.stdout.write(`READY ${fake.url}\n`)
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)))
