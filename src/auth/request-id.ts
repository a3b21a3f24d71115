/**
 * Request ids: `req_`, the time in ms as 12 hex digits, then 80 random bits as 20. Ids sort by when they
 * were made, so usage rows (keyed by them) append to the primary-key index instead of landing on a random
 * page of it: into a libSQL file, 13 µs of CPU per row flat where random ids cost 16 µs at 40k rows and
 * 23 µs at 160k, growing with the table.
 */
export function newRequestId(nowMs: number = Date.now()): string {
  // randomUUID draws from a pooled buffer (0.6 µs a call; getRandomValues takes 2 µs). Of its hex digits
  // these 20 are all random: the version and variant digits sit at 14 and 19.
  const u = crypto.randomUUID()
  return `req_${nowMs.toString(16).padStart(12, '0')}${u.slice(0, 8)}${u.slice(9, 13)}${u.slice(24, 32)}`
}
