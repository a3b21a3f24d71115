/**
 * Reads a reply's tool calls back out of the sampled tokens (the format of tool-tokens.ts) as they
 * stream: an event when a call's name is known, then its arguments as they grow. The closing
 * "\n```" of each call's JSON is held back until it is certain to be the fence.
 */
import type { Token } from 'node-llama-cpp'
import type { EngineEvent } from '../types.js'
import type { ToolTokens } from './tool-tokens.js'

type ToolEvent = Extract<EngineEvent, { type: 'tool_call' | 'tool_arguments' }>

const FENCE_OPEN = /^\s*```(?:json)?\n/
const FENCE_CLOSE = '\n```'

export interface ToolCallParser {
  /** A sampled token and the text it decoded to, once the calls-begin token has been seen. */
  push(token: Token, text: string): ToolEvent[]
  /** Calls whose end token arrived. */
  readonly completed: number
  /** The calls-end token arrived. */
  readonly done: boolean
}

export function createToolCallParser(t: ToolTokens, newCallId: () => string): ToolCallParser {
  let state: 'between' | 'type' | 'name' | 'fence' | 'arguments' | 'done' = 'between'
  let index = -1
  let buffer = ''
  let sent = 0
  let completed = 0
  return {
    push(token, text) {
      if (token === t.callsEnd) {
        state = 'done'
        return []
      }
      if (token === t.callBegin) {
        state = 'type'
        index++
        buffer = ''
        return []
      }
      if (token === t.sep && state === 'type') {
        state = 'name'
        buffer = ''
        return []
      }
      if (token === t.callEnd && state === 'arguments') {
        state = 'between'
        completed++
        const rest = buffer.endsWith(FENCE_CLOSE) ? buffer.slice(0, -FENCE_CLOSE.length) : buffer
        const tail = rest.slice(sent)
        return tail ? [{ type: 'tool_arguments', index, text: tail }] : []
      }
      buffer += text
      if (state === 'name') {
        const newline = buffer.indexOf('\n')
        if (newline === -1) return []
        const name = buffer.slice(0, newline).trim()
        buffer = buffer.slice(newline)
        state = 'fence'
        return [{ type: 'tool_call', index, id: newCallId(), name }, ...this.push(token, '')]
      }
      if (state === 'fence') {
        const open = FENCE_OPEN.exec(buffer)
        if (!open) return []
        buffer = buffer.slice(open[0].length)
        sent = 0
        state = 'arguments'
      }
      if (state !== 'arguments') return []
      // Everything but what could still turn out to be the closing fence.
      let safe = buffer.length
      for (let k = Math.min(FENCE_CLOSE.length, buffer.length); k > 0; k--) {
        if (FENCE_CLOSE.startsWith(buffer.slice(-k))) {
          safe = buffer.length - k
          break
        }
      }
      if (safe <= sent) return []
      const delta = buffer.slice(sent, safe)
      sent = safe
      return [{ type: 'tool_arguments', index, text: delta }]
    },
    get completed() {
      return completed
    },
    get done() {
      return state === 'done'
    },
  }
}
