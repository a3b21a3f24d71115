/** Minimal argv parsing: positionals plus `--flag value`, `--flag=value` and boolean `--flag` / `--no-flag`. */
export interface ParsedArgs {
  positionals: string[]
  flags: Map<string, string | boolean>
}

const BOOLEAN_FLAGS = new Set(['json', 'allow-override', 'help'])

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positionals: string[] = []
  const flags = new Map<string, string | boolean>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) {
      positionals.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    if (eq > 0) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1))
    } else if (arg.startsWith('--no-')) {
      flags.set(arg.slice(5), false)
    } else if (BOOLEAN_FLAGS.has(arg.slice(2))) {
      flags.set(arg.slice(2), true)
    } else {
      const value = argv[i + 1]
      if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value`)
      flags.set(arg.slice(2), value)
      i++
    }
  }
  return { positionals, flags }
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags.get(name)
  return typeof value === 'string' ? value : undefined
}
