/**
 * Request ids: `req_`, the time in ms as 12 hex digits, then 80 random bits as 20. Ids sort by when they
 * were made, so usage rows (keyed by them) append to the primary-key index instead of landing on a random
 * page of it: into a libSQL file, 13 µs of CPU per row flat where random ids cost 16 µs at 40k rows and
 * 23 µs at 160k, growing with the table.
 */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'))

export function newRequestId(nowMs: number = Date.now()): string {
  const random = crypto.getRandomValues(new Uint8Array(10))
  let out = `req_${nowMs.toString(16).padStart(12, '0')}`
  for (const b of random) out += HEX[b]
  return out
}
