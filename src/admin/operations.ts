/**
 * Admin operations shared by the HTTP admin API and the CLI's local mode, by resource.
 * Each takes the acting key (`Actor`), enforces its role and team scope, and awaits its
 * audit entry before answering.
 */
export { fail, ok, type OpFailureStatus, type OpResult } from './op-result.js'
export { allTeams, createTeam, publicTeam, setTeamRouting, type PublicTeam } from './teams.js'
export { createKey, keysOf, publicKey, revoke, updateKeySettings, type CreateKeyInput, type PublicKey, type UpdateKeyInput } from './keys.js'
export { rotateKey, type RotatedKey } from './key-rotation.js'
export { audit, auditEntries, type AuditPage, type PublicAuditEntry } from './audit.js'
