// The fake DeepSeek API in its own process, so its CPU and sockets are not the test's. Prints `READY <url>`.
import { startFakeDeepSeek } from '../fakes/deepseek.js'

const fake = await startFakeDeepSeek({ thinkingByDefault: false })
process.stdout.write(`READY ${fake.url}\n`)
process.once('SIGTERM', () => void fake.close().then(() => process.exit(0)))
