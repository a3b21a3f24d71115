/**
 * One JSON line per event on stderr. Callers log ids, token counts, timings and statuses only:
 * prompts and outputs never reach a log.
 */

export type LogFields = Record<string, string | number | boolean | undefined>

export interface Logger {
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
}

export function createJsonLogger(write: (line: string) => void = (line) => process.stderr.write(line + '\n')): Logger {
  const at = (level: string) => (msg: string, fields?: LogFields) => write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }))
  return { info: at('info'), warn: at('warn'), error: at('error') }
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} }
