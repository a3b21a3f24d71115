/**
 * The contract between node-host's HTTP layer and its engines (in-process llama.cpp or a forwarded
 * upstream). The HTTP layer speaks OpenAI; engines speak these small types.
 */
import type { BatchingState } from './engine/decode-mode.js'

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool'

export interface ToolCall {
  id: string
  name: string
  /** JSON text, as OpenAI sends and expects it. */
  arguments: string
}

export interface ChatMessage {
  role: ChatRole
  content: string
  /** Assistant turns that called tools; content may then be empty (null on the wire). */
  toolCalls?: ToolCall[]
  /** Tool results: the call they answer. */
  toolCallId?: string
  /** An assistant turn's reasoning, if the client sent it back. */
  reasoningContent?: string
}

/** A function the model may call (OpenAI `tools[].function`). */
export interface ToolSpec {
  name: string
  description?: string
  /** JSON schema of the arguments object. */
  parameters: Record<string, unknown>
}

export type ToolChoice = { type: 'none' } | { type: 'auto' } | { type: 'required' } | { type: 'function'; name: string }

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; schema: Record<string, unknown> }
  /** llama-server's non-standard `grammar` field: a GBNF grammar the output must match. */
  | { type: 'gbnf'; grammar: string }

/** A validated `/v1/chat/completions` request, reduced to what node-host honors. */
export interface ChatRequest {
  model: string | undefined
  messages: ChatMessage[]
  stream: boolean
  includeUsage: boolean
  maxTokens: number | undefined
  temperature: number | undefined
  topP: number | undefined
  topK: number | undefined
  minP: number | undefined
  seed: number | undefined
  stop: string[]
  presencePenalty: number | undefined
  frequencyPenalty: number | undefined
  responseFormat: ResponseFormat
  tools: ToolSpec[]
  toolChoice: ToolChoice
  parallelToolCalls: boolean
  /** Reasoning on or off (DeepSeek's `thinking`, `reasoning_effort`, legacy model names); undefined: the template's default. */
  thinking: boolean | undefined
  /** OpenAI logit_bias: token id -> bias added to its logit (-100..100). */
  logitBias: Map<number, number>
  /** Choices to generate (OpenAI `n`). */
  n: number
}

export type FinishReason = 'stop' | 'length' | 'tool_calls'

/** llama-server's `timings` object, so clients written for it keep working. */
export interface Timings {
  prompt_n: number
  prompt_ms: number
  prompt_per_second: number
  predicted_n: number
  predicted_ms: number
  predicted_per_second: number
  cache_n: number
}

export interface TokenUsage {
  promptTokens: number
  completionTokens: number
  cachedTokens: number
}

export type EngineEvent =
  /** Emitted once the prompt is placed in a sequence. */
  | { type: 'start'; promptTokens: number; cachedTokens: number; startsInReasoning: boolean }
  /**
   * Output text and how many sampled tokens it accounts for: usually 1 token; '' while a multi-byte char or a
   * possible stop string is pending; 0 tokens for text released at the end.
   */
  | { type: 'text'; text: string; tokens: number }
  /** A tool call begins: its index among this reply's calls, id and function name. */
  | { type: 'tool_call'; index: number; id: string; name: string }
  /** More of a tool call's arguments (JSON text). */
  | { type: 'tool_arguments'; index: number; text: string }
  | { type: 'done'; finishReason: FinishReason; usage: TokenUsage; timings: Timings }

/** What an upstream answered, passed through unchanged (forward mode). */
export interface PassthroughOutput {
  kind: 'passthrough'
  status: number
  contentType: string
  body: ReadableStream<Uint8Array>
  /** Usage and timings sniffed from the body, known once the body has been read to the end. */
  report: Promise<{ usage?: TokenUsage; timings?: Timings } | undefined>
}

export interface EventsOutput {
  kind: 'events'
  events: AsyncIterable<EngineEvent>
}

export type EngineOutput = EventsOutput | PassthroughOutput

/** A request an engine has checked and prepared (tokenized, grammar built) before it waits for a slot. */
export interface PreparedCompletion {
  /** Runs it. Callers hold a slot from the queue; aborting `signal` ends generation and frees the sequence. */
  run(signal: AbortSignal): Promise<EngineOutput>
}

export type EngineState = 'loading' | 'ready' | 'failed' | 'closed'

export interface EngineInfo {
  mode: 'llama' | 'forward'
  state: EngineState
  modelName: string
  /** 0..1 while loading. */
  loadProgress: number
  /** Per sequence, in tokens; undefined when unknown (forward mode). */
  contextSize: number | undefined
  threads: number | undefined
  /** The llama.cpp CPU backend variant in use (llama mode, once chosen). */
  cpuVariant?: string
  /** Why the engine cannot serve (state 'failed'), one line. */
  error?: string
  /** How concurrent sequences are decoded (llama mode, once loaded). */
  batching?: BatchingState
}

export interface Engine {
  info(): EngineInfo
  /** Resolves when the engine can serve; rejects when loading failed. */
  readonly ready: Promise<void>
  /** Checks a request without taking a slot; throws EngineError for problems the client must fix. */
  prepare(request: ChatRequest, rawBody: Uint8Array): Promise<PreparedCompletion>
  /** Extra health facts (forward mode probes its upstream). */
  probe?(): Promise<{ ok: boolean; detail?: string }>
  close(): Promise<void>
}

/** A failure with an HTTP status and OpenAI error code, raised before any output. */
export class EngineError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param?: string,
  ) {
    super(message)
    this.name = 'EngineError'
  }
}
