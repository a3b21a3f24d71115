/**
 * The reference rendering of a chat template: Python's jinja2, set up the way Hugging Face's
 * apply_chat_template sets it up (render-chat-template.py), to check node-host's renderer against.
 * @example renderWithJinja2(findPythonWithJinja(), { template, messages, bos_token, eos_token, add_generation_prompt: true })
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('./render-chat-template.py', import.meta.url))
const PYTHONS = ['python3', '/usr/bin/python3']

export interface ReferenceRenderRequest {
  template: string
  messages: readonly unknown[]
  bos_token: string
  eos_token: string
  add_generation_prompt: boolean
}

/** The first Python that imports jinja2, or an error that says how to install it. */
export function findPythonWithJinja(): string {
  for (const python of PYTHONS) {
    if (spawnSync(python, ['-c', 'import jinja2'], { stdio: 'ignore' }).status === 0) return python
  }
  throw new Error(`no Python with jinja2 among ${PYTHONS.join(', ')}: install it (Debian/Ubuntu: apt-get install python3-jinja2)`)
}

export function renderWithJinja2(python: string, request: ReferenceRenderRequest): string {
  const result = spawnSync(python, [SCRIPT], { input: JSON.stringify(request), encoding: 'utf8' })
  if (result.error) throw result.error
  if (result.status !== 0) throw new Error(`render-chat-template.py exited ${result.status}: ${result.stderr}`)
  return result.stdout
}
