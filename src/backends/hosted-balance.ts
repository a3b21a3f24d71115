/** A GET with a bearer key: the global fetch (Node 20 and workerd both have it). */
export type BalanceFetch = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<{ status: number; json(): Promise<unknown> }>

const BALANCE_TIMEOUT_MS = 5000

/**
 * DeepSeek's `GET /user/balance`: whether the account can serve requests again (`is_available`).
 * Any failure reads as "not yet", so a flaky check never turns hosted back on.
 */
export async function hostedBalanceAvailable(fetch: BalanceFetch, baseUrl: string, apiKey: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/user/balance`, { headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' }, signal: AbortSignal.timeout(BALANCE_TIMEOUT_MS) })
    if (res.status !== 200) return false
    const body = (await res.json()) as { is_available?: unknown } | null
    return body?.is_available === true
  } catch {
    return false
  }
}
