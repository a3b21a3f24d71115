import { stringFlag, type ParsedArgs } from './args.js'
import type { KeyCreateInput, KeyUpdateInput } from './admin-client.js'

/** `--models a,b` -> ['a','b']; `--models any` -> null (no restriction); absent -> undefined. */
export function listFlag(args: ParsedArgs, name: string): string[] | null | undefined {
  const raw = stringFlag(args, name)
  if (raw === undefined) return undefined
  if (raw === 'any') return null
  return raw.split(',').map((s) => s.trim()).filter(Boolean)
}

export function keyCreateInput(args: ParsedArgs): KeyCreateInput {
  return {
    team: stringFlag(args, 'team'),
    name: stringFlag(args, 'name') ?? '',
    role: stringFlag(args, 'role'),
    expires_at: stringFlag(args, 'expires'),
    allowed_models: listFlag(args, 'models'),
    allowed_backends: listFlag(args, 'backends'),
    backend_mode: backendModeFlag(args),
  }
}

/** `--backend-mode <mode>`; `team` -> null (the team's mode); absent -> undefined. */
function backendModeFlag(args: ParsedArgs): string | null | undefined {
  const raw = stringFlag(args, 'backend-mode')
  return raw === 'team' ? null : raw
}

/** `--expires never` clears the expiry. */
export function keyUpdateInput(args: ParsedArgs): KeyUpdateInput {
  const expires = stringFlag(args, 'expires')
  return {
    name: stringFlag(args, 'name'),
    expires_at: expires === 'never' ? null : expires,
    allowed_models: listFlag(args, 'models'),
    allowed_backends: listFlag(args, 'backends'),
    backend_mode: backendModeFlag(args),
  }
}

/** `--grace <seconds>`; the range is the server's to check. */
export function graceFlag(args: ParsedArgs): number | undefined {
  const raw = stringFlag(args, 'grace')
  if (raw === undefined) return undefined
  if (!/^\d+$/.test(raw)) throw new Error(`--grace must be a whole number of seconds, got "${raw}"`)
  return Number(raw)
}
