/**
 * The tool-calling parts of a chat request, in OpenAI's (and DeepSeek's) shapes: `tools`,
 * `tool_choice`, `parallel_tool_calls`, assistant `tool_calls` and `tool` results.
 */
import type { ToolCall, ToolChoice, ToolSpec } from './types.js'
import { fail, isObject, type Json } from './validate-shared.js'

const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/
const MAX_TOOLS = 128

export function parseTools(value: unknown): ToolSpec[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) return fail("'tools' must be an array", 'tools')
  if (value.length > MAX_TOOLS) return fail(`'tools' may list at most ${MAX_TOOLS} functions`, 'tools')
  const names = new Set<string>()
  return value.map((tool, i) => {
    const at = `tools[${i}]`
    if (!isObject(tool) || tool.type !== 'function' || !isObject(tool.function)) return fail(`'${at}' must be {"type":"function","function":{...}}`, 'tools')
    const fn = tool.function
    if (typeof fn.name !== 'string' || !FUNCTION_NAME.test(fn.name)) return fail(`'${at}.function.name' must be 1-64 letters, digits, '_' or '-'`, 'tools')
    if (names.has(fn.name)) return fail(`'${at}.function.name' repeats '${fn.name}'`, 'tools')
    names.add(fn.name)
    if (fn.description !== undefined && typeof fn.description !== 'string') return fail(`'${at}.function.description' must be a string`, 'tools')
    if (fn.parameters !== undefined && !isObject(fn.parameters)) return fail(`'${at}.function.parameters' must be a JSON schema object`, 'tools')
    return { name: fn.name, ...(fn.description ? { description: fn.description } : {}), parameters: (fn.parameters as Json | undefined) ?? { type: 'object', properties: {} } }
  })
}

export function parseToolChoice(value: unknown, tools: readonly ToolSpec[]): ToolChoice {
  if (value === undefined || value === null) return { type: tools.length > 0 ? 'auto' : 'none' }
  if (value === 'none' || value === 'auto' || value === 'required') {
    if (value !== 'none' && tools.length === 0) return fail(`'tool_choice' is '${value}' but no 'tools' were given`, 'tool_choice')
    return { type: value }
  }
  if (isObject(value) && value.type === 'function' && isObject(value.function) && typeof value.function.name === 'string') {
    const name = value.function.name
    if (!tools.some((t) => t.name === name)) return fail(`'tool_choice' names function '${name}', which is not in 'tools'`, 'tool_choice')
    return { type: 'function', name }
  }
  return fail(`'tool_choice' must be 'none', 'auto', 'required' or {"type":"function","function":{"name":...}}`, 'tool_choice')
}

/** An assistant message's `tool_calls`. */
export function parseToolCalls(value: unknown, at: string): ToolCall[] | undefined {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) return fail(`'${at}.tool_calls' must be an array`, `${at}.tool_calls`)
  return value.map((call, i) => {
    const where = `${at}.tool_calls[${i}]`
    if (!isObject(call) || !isObject(call.function) || typeof call.function.name !== 'string') return fail(`'${where}' must be {"id","type":"function","function":{"name","arguments"}}`, `${at}.tool_calls`)
    if (typeof call.function.arguments !== 'string') return fail(`'${where}.function.arguments' must be a JSON string`, `${at}.tool_calls`)
    return { id: typeof call.id === 'string' ? call.id : `call_${i}`, name: call.function.name, arguments: call.function.arguments }
  })
}
