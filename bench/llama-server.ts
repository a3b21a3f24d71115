/**
 * node-host (forward mode in front of llama-server, and in-process) vs llama.cpp's own llama-server, on
 * the same generated model, threads, context, prompt, grammar and sampling, streamed and timed at the
 * client the same way (first to last token), rounds interleaved in a rotating order. The binary is
 * LLAMA_SERVER_BIN if set (a llama-server built by hand), else Debian's package, installed by the bench
 * where the machine's Debian ships one; otherwise a row says why it was not measured.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { ensureTestModel } from '../node-host/gguf/test-models.js'
import { BENCH_SECRET, signingKey, streamChat } from './node-host-client.js'
import { BENCH_CONTEXT_TOKENS, spawnNodeHost } from './node-host-spawn.js'
import { fmt, median, spread, spawnServer, type ServerProcess } from './support.js'

export const LLAMA_SERVER_HEADER = ['measure', 'llama-server', 'node-host forward mode -> llama-server', 'node-host in-process', 'node-host vs llama-server']

const MEASURE = 'decode tok/s, llama-moe bench Q8_0, 1 thread, streamed'

function debianCodename(): string | undefined {
  if (!existsSync('/etc/os-release')) return undefined
  return /^VERSION_CODENAME=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]
}

/** The candidate version of Debian's llama.cpp package, or why there is none. */
export function llamaCppPackage(): { version: string } | { missing: string } {
  const codename = debianCodename()
  if (!codename || !existsSync('/usr/bin/apt-cache')) return { missing: 'not a Debian machine (no apt-cache)' }
  // apt-cache knows nothing before the first apt-get update (a fresh machine).
  if (!readdirSync('/var/lib/apt/lists').some((f) => f.includes('_Packages')) && process.getuid?.() === 0) execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' })
  const policy = execFileSync('apt-cache', ['policy', 'llama.cpp'], { encoding: 'utf8' })
  const candidate = /Candidate: (\S+)/.exec(policy)?.[1]
  if (!candidate || candidate === '(none)') return { missing: `this Debian (${codename}) ships no llama.cpp package` }
  return { version: candidate }
}

/** LLAMA_SERVER_BIN, or Debian's llama-server (installing the package as root), or why neither. */
export function findLlamaServer(env: NodeJS.ProcessEnv = process.env): { bin: string; source: string } | { missing: string } {
  const own = env.LLAMA_SERVER_BIN
  if (own) return existsSync(own) ? { bin: own, source: `LLAMA_SERVER_BIN (${version(own)})` } : { missing: `LLAMA_SERVER_BIN=${own} does not exist` }
  const pkg = llamaCppPackage()
  if ('missing' in pkg) return pkg
  const installed = () => {
    try {
      return execFileSync('dpkg', ['-S', '*/bin/llama-server'], { encoding: 'utf8' }).split('\n')[0]?.split(': ')[1]?.trim()
    } catch {
      return undefined
    }
  }
  if (!installed() && process.getuid?.() === 0) execFileSync('apt-get', ['install', '-y', '-qq', 'llama.cpp'], { stdio: 'ignore', env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } })
  const bin = installed()
  return bin ? { bin, source: `Debian llama.cpp ${pkg.version}` } : { missing: `Debian's llama.cpp ${pkg.version} is available but installs no llama-server here (not root?)` }
}

/** `--version`'s `version: ...` line (llama-server prints it on stderr). */
function version(bin: string): string {
  const run = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 })
  return /version: .*/.exec(`${run.stdout ?? ''}${run.stderr ?? ''}`)?.[0] ?? 'version unknown'
}

export async function benchLlamaServer(opts: { rounds?: number; maxTokens?: number; env?: NodeJS.ProcessEnv } = {}): Promise<{ rows: string[][] }> {
  const found = findLlamaServer(opts.env)
  if ('missing' in found) return { rows: [[MEASURE, `not measured: ${found.missing}`, '-', '-', '-']] }
  const rounds = opts.rounds ?? 6
  const maxTokens = opts.maxTokens ?? 128
  const threads = 1
  const model = await ensureTestModel({ layout: 'llama-moe', size: 'bench', quant: 'q8_0' })
  const servers: ServerProcess[] = []
  try {
    const llamaServer = await spawnServer('bench/servers/llama-server.ts', [found.bin, model, String(threads), String(BENCH_CONTEXT_TOKENS)])
    servers.push(llamaServer)
    const forward = await spawnServer('bench/servers/node-host-forward.ts', [llamaServer.words[0]!, BENCH_SECRET])
    servers.push(forward)
    const inProcess = await spawnNodeHost(model, { threads, parallel: 1 })
    servers.push(inProcess)
    const key = await signingKey()
    const targets = [
      { url: llamaServer.words[0]!, key: undefined, tokS: [] as number[] },
      { url: forward.words[0]!, key, tokS: [] as number[] },
      { url: inProcess.url, key, tokS: [] as number[] },
    ]
    for (const t of targets) for (let i = 0; i < 2; i++) await streamChat(t.url, t.key, { maxTokens, seed: 1000 + i }) // JIT, prompt cache
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(r + i) % targets.length]!
        t.tokS.push((await streamChat(t.url, t.key, { maxTokens, seed: r })).tokensPerSecond)
      }
    }
    const [ls, fwd, inproc] = targets.map((t) => t.tokS) as [number[], number[], number[]]
    const [fwdRatio, inprocRatio] = [fwd, inproc].map((a) => a.map((v, i) => v / ls[i]!)) as [number[], number[]]
    return {
      rows: [
        [MEASURE, spread(ls, 1), spread(fwd, 1), spread(inproc, 1), `forward ${spread(fwdRatio, 3)}; in-process ${spread(inprocRatio, 3)}`],
        ['setup', found.source, `${maxTokens} tokens x ${rounds} rounds`, 'prebuilt node-llama-cpp binding, variant auto', `median ratios ${fmt(median(fwdRatio), 3)} / ${fmt(median(inprocRatio), 3)}`],
      ],
    }
  } finally {
    for (const s of servers.reverse()) await s.stop()
  }
}
