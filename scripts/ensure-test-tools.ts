/**
 * `npm test`'s pretest: what the suite needs from the system, from Debian's packages, never a download
 * of its own: a headless Chromium for the dashboard tests (test/support/browser.ts) and a Python with
 * jinja2, the independent renderer the chat-template tests compare node-host against
 * (test/support/jinja-reference.ts). Installs what is missing with apt when this user can (root, or sudo
 * without a password); otherwise says how and stops before the suite runs.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const PYTHONS = ['python3', '/usr/bin/python3']

const ok = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0
const hasJinja = () => PYTHONS.some((python) => ok(python, ['-c', 'import jinja2']))

if (process.env.CHROMIUM_PATH && !existsSync(CHROMIUM)) {
  console.error(`CHROMIUM_PATH=${CHROMIUM} does not exist. Point it at a Chromium or Chrome binary, or unset it to use Debian's /usr/bin/chromium.`)
  process.exit(1)
}
const missing = [...(existsSync(CHROMIUM) ? [] : ['chromium']), ...(hasJinja() ? [] : ['python3-jinja2'])]
if (missing.length === 0) process.exit(0)

const prefix = !ok('sh', ['-c', 'command -v apt-get']) ? undefined : process.getuid?.() === 0 ? [] : ok('sudo', ['-n', 'true']) ? ['sudo', '-n'] : undefined
if (prefix) {
  console.error(`The tests need ${missing.join(' and ')}; installing with apt-get (once)...`)
  const apt = (args: string[]) => {
    const [cmd, ...rest] = [...prefix, 'apt-get', ...args]
    return spawnSync(cmd!, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0
  }
  if (apt(['update', '-qq']) && apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]) && existsSync(CHROMIUM) && hasJinja()) process.exit(0)
  console.error('apt-get could not install them (see above).')
}
console.error(
  [
    `The tests need ${missing.join(' and ')}, and they could not be installed here.`,
    `  Debian/Ubuntu:  sudo apt-get install ${missing.join(' ')}`,
    ...(missing.includes('chromium') ? ['  or point CHROMIUM_PATH at a Chromium or Chrome binary'] : []),
  ].join('\n'),
)
process.exit(1)
