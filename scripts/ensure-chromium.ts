/**
 * `npm test`'s pretest: the dashboard tests drive a real headless Chromium (test/support/browser.ts),
 * Debian's package, never a browser download. Installs it with apt when it is missing and this user
 * can (root, or sudo without a password); otherwise says how and stops before the suite runs.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const DEFAULT_PATH = '/usr/bin/chromium'
const path = process.env.CHROMIUM_PATH || DEFAULT_PATH

function run(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0
}

function aptPrefix(): string[] | undefined {
  if (spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status !== 0) return undefined
  if (process.getuid?.() === 0) return []
  return spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0 ? ['sudo', '-n'] : undefined
}

if (existsSync(path)) process.exit(0)

if (process.env.CHROMIUM_PATH) {
  console.error(`CHROMIUM_PATH=${path} does not exist. Point it at a Chromium or Chrome binary, or unset it to use Debian's ${DEFAULT_PATH}.`)
  process.exit(1)
}

const prefix = aptPrefix()
if (prefix) {
  console.error(`The dashboard tests need Chromium; installing Debian's chromium with apt-get (once)...`)
  const apt = (args: string[]) => {
    const [cmd, ...rest] = [...prefix, 'apt-get', ...args]
    return run(cmd!, rest)
  }
  if (apt(['update', '-qq']) && apt(['install', '-y', '-qq', '--no-install-recommends', 'chromium']) && existsSync(DEFAULT_PATH)) process.exit(0)
  console.error('apt-get could not install chromium (see above).')
}
console.error(
  [
    'The dashboard tests need a headless Chromium and none was found.',
    '  Debian/Ubuntu:  sudo apt-get install chromium',
    '  elsewhere:      CHROMIUM_PATH=/path/to/chromium npm test',
  ].join('\n'),
)
process.exit(1)
