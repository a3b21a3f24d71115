/**
 * node-host logs like the gateway (src/log.ts): one JSON line per event, ids, token counts,
 * timings and statuses only; prompts and outputs never reach a log. Default: stderr.
 */
import { jsonLogger, type Logger } from '../src/log.js'

export { silentLogger, type LogFields, type Logger } from '../src/log.js'

export function createJsonLogger(write: (line: string) => void = (line) => process.stderr.write(line + '\n')): Logger {
  return jsonLogger(write)
}
