/** What an admin operation answers; shared by the HTTP admin API and the CLI's local mode. */
export type OpResult<T> = { ok: true; value: T } | { ok: false; status: OpFailureStatus; code: string; message: string }

export type OpFailureStatus = 400 | 403 | 404 | 409

export const ok = <T>(value: T): OpResult<T> => ({ ok: true, value })

export const fail = (status: OpFailureStatus, code: string, message: string): OpResult<never> => ({ ok: false, status, code, message })

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
