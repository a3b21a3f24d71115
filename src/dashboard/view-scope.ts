import type { GatewayDb } from '../db/client.js'
import { findKeyById } from '../db/keys.js'
import type { TeamRow } from '../db/schema.js'
import { findTeam } from '../db/teams.js'
import { parsePeriod } from './period.js'
import type { Period, ReportFilter } from './report-types.js'
import type { Viewer } from './viewer.js'

/** What a team page or export shows, after the viewer's reach has been applied to its query. */
export interface TeamView {
  team: TeamRow
  period: Period
  filter: ReportFilter
  /** The same view as query parameters, for links (exports, the filter form): validated values only. */
  params: URLSearchParams
}

export type TeamViewResult =
  | { ok: true; view: TeamView }
  /** A gateway admin who named no team: the page offers the team picker. */
  | { ok: false; status: 'pick-team'; period: Period }
  | { ok: false; status: 400 | 404; message: string }

const MAX_MODEL_LENGTH = 200
const MAX_ID_LENGTH = 200

// Neither echoes the value asked for: a page about a team you can't see names nothing of it.
const NO_TEAM = 'There is no such team, or it is not yours to see.'
const NO_KEY = 'There is no such key in this team, or it is not yours to see.'

const notFound = (message: string) => ({ ok: false as const, status: 404 as const, message })
const badRequest = (message: string) => ({ ok: false as const, status: 400 as const, message })

/** The team the viewer asked for, if it may see it. Another team answers as one that does not exist. */
async function teamFor(db: GatewayDb, viewer: Viewer, requested: string | undefined): Promise<TeamRow | 'pick' | undefined> {
  if (requested !== undefined && requested.length > MAX_ID_LENGTH) return undefined
  if (viewer.reach === 'gateway') return requested === undefined ? 'pick' : findTeam(db, requested)
  const own = viewer.actor.teamId
  if (own === null) return undefined
  const team = await findTeam(db, requested ?? own)
  return team?.id === own ? team : undefined
}

/**
 * Reads a team page's query (period, from, to, tz, team, key, model, backend) for this viewer:
 * members see their own key only, team-admins their own team, gateway admins any team.
 * A team or key outside that reach is answered exactly like one that does not exist.
 */
export async function resolveTeamView(db: GatewayDb, viewer: Viewer, query: Record<string, string>, nowMs: number): Promise<TeamViewResult> {
  const q = (name: string) => (query[name] === undefined || query[name] === '' ? undefined : query[name])
  const period = parsePeriod({ period: q('period'), from: q('from'), to: q('to'), tz: q('tz') ?? String(viewer.session.tzOffsetMin ?? 0) }, nowMs)
  if ('error' in period) return badRequest(period.error)

  const backend = q('backend')
  if (backend !== undefined && backend !== 'local' && backend !== 'hosted') return badRequest('backend must be local or hosted')
  const model = q('model')
  if (model !== undefined && model.length > MAX_MODEL_LENGTH) return badRequest(`model must be at most ${MAX_MODEL_LENGTH} characters`)

  const requestedTeam = q('team')
  const team = await teamFor(db, viewer, requestedTeam)
  if (team === 'pick') return { ok: false, status: 'pick-team', period }
  if (!team) return notFound(NO_TEAM)

  let keyId = q('key')
  if (viewer.reach === 'key') {
    if (keyId !== undefined && keyId !== viewer.actor.id) return notFound(NO_KEY)
    keyId = viewer.actor.id
  } else if (keyId !== undefined) {
    const row = keyId.length <= MAX_ID_LENGTH ? await findKeyById(db, keyId) : undefined
    if (row?.teamId !== team.id) return notFound(NO_KEY)
  }

  const filter: ReportFilter = { keyId, model, backend }
  const params = new URLSearchParams({ period: period.name })
  if (period.name === 'custom') {
    params.set('from', q('from') ?? '')
    params.set('to', q('to') ?? '')
  }
  if (period.tzOffsetMin !== 0) params.set('tz', String(period.tzOffsetMin))
  if (viewer.reach === 'gateway') params.set('team', team.id)
  if (keyId !== undefined && viewer.reach !== 'key') params.set('key', keyId)
  if (model !== undefined) params.set('model', model)
  if (backend !== undefined) params.set('backend', backend)
  return { ok: true, view: { team, period, filter, params } }
}
