import type { UsageRow } from '../db/schema.js'
import type { BackendName } from '../routing/plan.js'
import type { AdmissionRequest, RequestGuard } from './guard.js'

type Settle = (row: UsageRow) => Promise<void>

export type AdmitResult =
  | { ok: true; headers: Record<string, string>; order: BackendName[]; settle: Settle }
  /** `settle` releases what guards before the refusing one held; call it with the refusal's row. */
  | { ok: false; status: 429 | 403 | 402; code: string; message: string; headers: Record<string, string>; settle: Settle }

/** Runs the guards in order; the first refusal wins. */
export async function admitAll(guards: readonly RequestGuard[], req: AdmissionRequest): Promise<AdmitResult> {
  const headers: Record<string, string> = {}
  const settles: Settle[] = []
  const settle: Settle = async (row) => {
    await Promise.all(settles.map((s) => s(row)))
  }
  let order = req.order
  for (const guard of guards) {
    const admission = await guard.admit({ ...req, order })
    if (!admission.ok) return { ...admission, headers: { ...headers, ...admission.headers }, settle }
    Object.assign(headers, admission.headers)
    if (admission.order) order = admission.order
    if (admission.settle) settles.push(admission.settle)
  }
  return { ok: true, headers, order, settle }
}
