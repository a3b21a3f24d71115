/**
 * llama.cpp's own llama-server on a free loopback port, set up as node-host's engine is (CPU, threads,
 * context, one slot, no flash attention: node-llama-cpp's default); prints its URL once /health answers.
 * Args: binary model threads contextSize.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'

const [bin, model, threads, contextSize] = process.argv.slice(2)
if (!bin || !model || !threads || !contextSize) throw new Error('usage: llama-server.ts <binary> <model> <threads> <contextSize>')

const port = await new Promise<number>((resolve, reject) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number }
    probe.close(() => resolve(port))
  })
  probe.once('error', reject)
})
const args = ['-m', model, '--host', '127.0.0.1', '--port', String(port), '-t', threads, '-tb', threads, '-c', contextSize, '-np', '1', '-fa', 'off', '--no-webui']
const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
let stderr = ''
child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
child.once('exit', (code, signal) => {
  process.stderr.write(`llama-server exited (${signal ?? code})\n${stderr}\n`)
  process.exit(1)
})

const url = `http://127.0.0.1:${port}`
const deadline = Date.now() + 120_000
for (;;) {
  const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false)
  if (ok) break
  if (Date.now() > deadline) throw new Error(`llama-server did not become healthy in 120 s:\n${stderr}`)
  await new Promise((r) => setTimeout(r, 200))
}
process.stdout.write(`READY ${url}\n`)
process.on('SIGTERM', () => {
  child.removeAllListeners('exit')
  child.once('exit', () => process.exit(0))
  child.kill('SIGTERM')
})
