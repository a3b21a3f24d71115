/** What every part of request validation uses: a 400 the client can act on, and a plain-object test. */
import { EngineError } from './types.js'

export type Json = Record<string, unknown>

export const fail = (message: string, param?: string): never => {
  throw new EngineError(400, 'invalid_request_error', message, param)
}

/** A well-formed request this engine cannot honour (the hosted API may): the gateway falls back on it. */
export const unsupported = (message: string, param: string): never => {
  throw new EngineError(400, 'unsupported_parameter', message, param)
}

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
