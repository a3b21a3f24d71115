/**
 * Turns a raw `/v1/chat/completions` body into a ChatRequest, or a 400 the client can act on.
 * Unknown fields are ignored (clients send many); known fields with wrong types are refused.
 */
import type { ChatMessage, ChatRequest, ResponseFormat } from './types.js'
import { parseThinking } from './validate-thinking.js'
import { parseToolCalls, parseToolChoice, parseTools } from './validate-tools.js'
import { fail, isObject, unsupported, type Json } from './validate-shared.js'

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool'])
const MAX_STOP_STRINGS = 16
const MAX_CHOICES = 16

function optionalNumber(body: Json, key: string, min: number, max: number, integer = false): number | undefined {
  const v = body[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v)) return fail(`'${key}' must be a number`, key)
  if (integer && !Number.isInteger(v)) return fail(`'${key}' must be an integer`, key)
  if (v < min || v > max) return fail(`'${key}' must be between ${min} and ${max}`, key)
  return v
}

function messageContent(content: unknown, at: string): string {
  if (typeof content === 'string') return content
  if (content === null || content === undefined) return ''
  if (!Array.isArray(content)) return fail(`'${at}.content' must be a string or an array of text parts`, `${at}.content`)
  return content
    .map((part, i) => {
      if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
        return fail(`'${at}.content[${i}]' must be a text part; this model takes text only`, `${at}.content`)
      }
      return part.text
    })
    .join('')
}

function parseMessages(value: unknown): ChatMessage[] {
  if (value === undefined) return fail("'messages' is required", 'messages')
  if (!Array.isArray(value)) return fail("'messages' must be an array", 'messages')
  if (value.length === 0) return fail("'messages' must not be empty", 'messages')
  return value.map((m, i) => {
    const at = `messages[${i}]`
    if (!isObject(m)) return fail(`'${at}' must be an object`, at)
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) return fail(`'${at}.role' must be one of ${[...ROLES].join(', ')}`, `${at}.role`)
    const message: ChatMessage = { role: m.role as ChatMessage['role'], content: messageContent(m.content, at) }
    const toolCalls = m.role === 'assistant' ? parseToolCalls(m.tool_calls, at) : undefined
    if (toolCalls && toolCalls.length > 0) message.toolCalls = toolCalls
    if (m.role === 'tool' && typeof m.tool_call_id === 'string') message.toolCallId = m.tool_call_id
    if (m.role === 'assistant' && typeof m.reasoning_content === 'string') message.reasoningContent = m.reasoning_content
    return message
  })
}

function parseStop(value: unknown): string[] {
  if (value === undefined || value === null) return []
  if (typeof value === 'string') return [value]
  if (Array.isArray(value) && value.length <= MAX_STOP_STRINGS && value.every((s) => typeof s === 'string')) return value as string[]
  return fail(`'stop' must be a string or an array of at most ${MAX_STOP_STRINGS} strings`, 'stop')
}

function parseResponseFormat(value: unknown): ResponseFormat {
  if (value === undefined || value === null) return { type: 'text' }
  if (!isObject(value)) return fail("'response_format' must be an object", 'response_format')
  if (value.type === 'text' || value.type === 'json_object') return { type: value.type }
  if (value.type === 'json_schema') {
    const spec = value.json_schema
    if (!isObject(spec) || !isObject(spec.schema)) return fail("'response_format.json_schema.schema' must be an object", 'response_format')
    return { type: 'json_schema', schema: spec.schema }
  }
  return fail("'response_format.type' must be 'text', 'json_object' or 'json_schema'", 'response_format')
}

export function parseChatRequest(raw: Uint8Array): ChatRequest {
  let body: unknown
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw))
  } catch {
    return fail('Request body is not valid JSON')
  }
  if (!isObject(body)) return fail('Request body must be a JSON object')
  if (body.model !== undefined && typeof body.model !== 'string') fail("'model' must be a string", 'model')
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') fail("'stream' must be a boolean", 'stream')
  const n = optionalNumber(body, 'n', 1, MAX_CHOICES, true) ?? 1
  // Hosted DeepSeek returns logprobs; node-host does not compute them: let the gateway ask hosted.
  if (body.logprobs === true || (body.top_logprobs !== undefined && body.top_logprobs !== null)) unsupported('node-host does not return logprobs', body.logprobs === true ? 'logprobs' : 'top_logprobs')
  const tools = parseTools(body.tools)
  const toolChoice = parseToolChoice(body.tool_choice, tools)
  if (body.parallel_tool_calls !== undefined && body.parallel_tool_calls !== null && typeof body.parallel_tool_calls !== 'boolean') fail("'parallel_tool_calls' must be a boolean", 'parallel_tool_calls')
  const streamOptions = body.stream_options
  if (streamOptions !== undefined && streamOptions !== null && !isObject(streamOptions)) fail("'stream_options' must be an object", 'stream_options')
  const maxTokens = optionalNumber(body, 'max_completion_tokens', 1, 1e9, true) ?? optionalNumber(body, 'max_tokens', 1, 1e9, true)
  return {
    model: body.model as string | undefined,
    messages: parseMessages(body.messages),
    stream: body.stream === true,
    includeUsage: isObject(streamOptions) && streamOptions.include_usage === true,
    maxTokens,
    temperature: optionalNumber(body, 'temperature', 0, 2),
    topP: optionalNumber(body, 'top_p', 0, 1),
    topK: optionalNumber(body, 'top_k', 0, 1e6, true),
    minP: optionalNumber(body, 'min_p', 0, 1),
    seed: optionalNumber(body, 'seed', -(2 ** 53), 2 ** 53, true),
    stop: parseStop(body.stop),
    presencePenalty: optionalNumber(body, 'presence_penalty', -2, 2),
    frequencyPenalty: optionalNumber(body, 'frequency_penalty', -2, 2),
    responseFormat: withGrammar(parseResponseFormat(body.response_format), body.grammar),
    tools,
    toolChoice,
    parallelToolCalls: body.parallel_tool_calls !== false,
    thinking: parseThinking(body),
    logitBias: parseLogitBias(body.logit_bias),
    n,
  }
}

/** OpenAI's logit_bias: {"<token id>": bias}, bias from -100 (never) to 100 (always). */
function parseLogitBias(value: unknown): Map<number, number> {
  const bias = new Map<number, number>()
  if (value === undefined || value === null) return bias
  if (!isObject(value)) return fail("'logit_bias' must be an object of token id -> bias", 'logit_bias')
  for (const [key, v] of Object.entries(value)) {
    const token = Number(key)
    if (!/^\d+$/.test(key) || !Number.isSafeInteger(token)) return fail(`'logit_bias' keys must be token ids; got '${key.slice(0, 20)}'`, 'logit_bias')
    if (typeof v !== 'number' || !Number.isFinite(v) || v < -100 || v > 100) return fail(`'logit_bias[${key}]' must be a number from -100 to 100`, 'logit_bias')
    bias.set(token, v)
  }
  return bias
}

/** llama-server's `grammar` (GBNF) extension; it cannot be combined with a JSON response_format. */
function withGrammar(format: ResponseFormat, grammar: unknown): ResponseFormat {
  if (grammar === undefined || grammar === null) return format
  if (typeof grammar !== 'string' || grammar.trim() === '') return fail("'grammar' must be a GBNF string", 'grammar')
  if (format.type !== 'text') return fail("'grammar' cannot be combined with a JSON 'response_format'", 'grammar')
  return { type: 'gbnf', grammar }
}
