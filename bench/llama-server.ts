/**
 * node-host (forward mode in front of llama-server, and in-process) vs llama.cpp's own llama-server on
 * the same generated model and threads: measured only where Debian ships llama-server (package
 * llama.cpp) for the bench to install. Bookworm ships none, and the comparison itself is not written
 * yet, so this reports which of the two keeps it from being measured.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'

export const LLAMA_SERVER_HEADER = ['measure', 'llama-server', 'node-host forward mode -> llama-server', 'node-host in-process', 'node-host vs llama-server']

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

export async function benchLlamaServer(): Promise<{ rows: string[][] }> {
  const pkg = llamaCppPackage()
  const reason = 'missing' in pkg ? pkg.missing : `Debian's llama.cpp ${pkg.version} is available, but this comparison is not written yet`
  return { rows: [['decode tok/s, llama-moe bench Q8_0, same threads', `not measured: ${reason}`, '-', '-', '-']] }
}
