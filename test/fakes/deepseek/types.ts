import type { IncomingHttpHeaders } from 'node:http'

/** Statuses the fake can be told to fail with; the bodies come from DEEPSEEK_ERRORS. */
export type FakeErrorStatus = 400 | 401 | 402 | 422 | 429 | 500 | 503

/**
 * How the fake answers chat completions. Set per server (`setBehavior`) and override per
 * request with the `x-fake-behavior: <json>` header or a `fake_behavior` body field (the
 * body field survives a gateway that forwards unknown fields but not unknown headers).
 * Precedence: header > body field > server behavior > defaults.
 */
export interface FakeBehavior {
  /** Fail with this status and DeepSeek's error body (after delayBeforeHeadersMs). */
  status?: FakeErrorStatus
  /** `Retry-After` seconds on a 429. Default 1. */
  retryAfterSeconds?: number
  /** Wait this long before sending anything (status line included). */
  delayBeforeHeadersMs?: number
  /**
   * Queue-wait keep-alives sent after the 200 headers and before the first token:
   * `: keep-alive` SSE comments when streaming, empty lines otherwise (DeepSeek docs, "Rate Limit").
   */
  keepAliveCount?: number
  /** Gap between keep-alives. Default 10. */
  keepAliveIntervalMs?: number
  /** Gap between streamed chunks; a non-streamed answer waits this times its completion tokens. */
  tokenDelayMs?: number
  /** The answer: exact pieces (one piece = one token = one streamed delta) or how many filler pieces. Default 6 pieces. */
  contentTokens?: string[] | number
  /** Reasoning pieces when thinking, same form. Default 4 pieces. */
  reasoningTokens?: string[] | number
  /** Destroy the socket after this many `data:` events (`[DONE]` counts); non-streamed: send the 200 headers, then destroy before the body. */
  closeAfterChunks?: number
  /** Send the JSON chunk at this 0-based index as invalid JSON; non-streamed: send a truncated body. */
  malformedChunkAt?: number
  /** With a numeric contentTokens: pad each filler piece to this many characters (large streams from a small request). */
  pieceChars?: number
  /** Wait for 'drain' when the socket's buffer is full, as a well-behaved server does (slow-reader tests). */
  respectBackpressure?: boolean
  /** Leave `usage` out (non-streamed body, and the include_usage chunk). */
  omitUsage?: boolean
  /** Send headers (and keep-alives), then never send a token until the client goes away. */
  hangBeforeFirstToken?: boolean
  /** Streaming: after this many `data:` events, send nothing more (the connection stays open) until the client goes away. */
  hangAfterChunks?: number
  /** Streaming: fill each gap between chunks (tokenDelayMs) with a `: keep-alive` comment this often, as node-host does when it has nothing to send. */
  keepAliveEveryMs?: number
}

export interface FakeBalance {
  is_available: boolean
  balance_infos: { currency: 'USD' | 'CNY'; total_balance: string; granted_balance: string; topped_up_balance: string }[]
}

export interface FakeDeepSeekOptions {
  /** Keys accepted as `Authorization: Bearer <key>`. Default ['sk-fake-deepseek']. */
  apiKeys?: string[]
  behavior?: FakeBehavior
  /** Cache-hit granularity in tokens. Default 64, like DeepSeek's disk cache. */
  cacheBlockTokens?: number
  /** DeepSeek docs: thinking mode is on unless `thinking: {type: 'disabled'}`. Default true. */
  thinkingByDefault?: boolean
  /** Answer deepseek-chat / deepseek-reasoner (retired by DeepSeek on 2026-07-24). Default true; false -> 400 Model Not Exist. */
  acceptRetiredAliases?: boolean
  balance?: FakeBalance
  /** Keep every request in `requests`. Default true; benchmarks, sending hundreds of thousands, turn it off. */
  recordRequests?: boolean
}

export interface FakeUsage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  prompt_tokens_details: { cached_tokens: number }
  prompt_cache_hit_tokens: number
  prompt_cache_miss_tokens: number
  completion_tokens_details: { reasoning_tokens: number }
}

/** One request as the fake saw it. The object is updated while the answer is sent. */
export interface RecordedRequest {
  seq: number
  method: string
  /** Path without the query string. */
  path: string
  headers: IncomingHttpHeaders
  /** Parsed JSON body (unknown fields included), undefined if none or unparseable. */
  body: unknown
  rawBody: string
  apiKey?: string
  receivedAtMs: number
  /** The behavior in force for this request after merging overrides. */
  behavior: FakeBehavior
  status?: number
  stream?: boolean
  /** Model that "ran" it (legacy names resolve to a current model); the response echoes the requested name. */
  servedModel?: string
  thinking?: boolean
  /** Usage the fake computed, even when omitted from the wire. */
  usage?: FakeUsage
  /** `data:` events written (streaming, `[DONE]` included). */
  chunksSent: number
  keepAlivesSent: number
  completedAtMs?: number
  /** Set when the client closed the connection before the answer was complete. */
  abortedAtMs?: number
}

export interface FakeDeepSeek {
  /** Base URL, like https://api.deepseek.com (no /v1). */
  url: string
  port: number
  requests: RecordedRequest[]
  /** How many answers the client abandoned before they were complete. */
  readonly aborted: number
  setBehavior(behavior: FakeBehavior): void
  /** Clears recorded requests, the abort count, the prompt cache and the server behavior. */
  reset(): void
  close(): Promise<void>
}
