import { tokenUsageFrom, type TokenUsage } from './token-usage.js'

/**
 * Watches an OpenAI-style SSE stream as it passes through: captures usage, the served
 * model, the first token and upstream error events, and drops the usage-only chunk
 * when the client did not ask for it (the gateway always asks upstream for usage).
 * Complete events pass on as soon as they arrive; only a trailing partial event waits.
 */
export class SseMeter {
  usage: TokenUsage | undefined
  model: string | undefined
  /** Characters of `content` / tool-call arguments and of `reasoning_content` seen, for estimates. */
  contentChars = 0
  reasoningChars = 0
  /** Non-empty deltas seen: engines stream about one token per delta, a better estimate than characters for short tokens. */
  contentDeltas = 0
  reasoningDeltas = 0
  firstTokenAt: number | undefined
  sawDone = false
  upstreamErrorCode: string | undefined
  private pending = ''
  private readonly decoder = new TextDecoder()
  private readonly encoder = new TextEncoder()

  constructor(private readonly opts: { clientWantsUsage: boolean; now: () => number }) {}

  /** Feeds upstream bytes; returns the bytes to send on (possibly empty). */
  push(chunk: Uint8Array): Uint8Array {
    this.pending += this.decoder.decode(chunk, { stream: true })
    const end = lastEventEnd(this.pending)
    if (end < 0) return EMPTY
    const complete = this.pending.slice(0, end)
    this.pending = this.pending.slice(end)
    return this.encoder.encode(this.filter(complete))
  }

  /** Whatever partial event was left when upstream ended. */
  flush(): Uint8Array {
    const rest = this.pending + this.decoder.decode()
    this.pending = ''
    return rest ? this.encoder.encode(this.filter(rest)) : EMPTY
  }

  private filter(text: string): string {
    let out = ''
    for (const event of splitEvents(text)) {
      if (this.inspect(event.body)) out += event.raw
    }
    return out
  }

  /** Returns false when the event must not reach the client. */
  private inspect(eventBody: string): boolean {
    const data = dataOf(eventBody)
    if (data === undefined) return true
    if (data === '[DONE]') {
      this.sawDone = true
      return true
    }
    let json: unknown
    try {
      json = JSON.parse(data)
    } catch {
      return true // not ours to fix; the client sees what upstream sent
    }
    if (json === null || typeof json !== 'object') return true
    const chunk = json as { model?: unknown; usage?: unknown; choices?: unknown; error?: { code?: unknown; type?: unknown } }
    if (typeof chunk.model === 'string') this.model = chunk.model
    if (chunk.error) this.upstreamErrorCode = String(chunk.error.code ?? chunk.error.type ?? 'upstream_error')
    const usage = chunk.usage ? tokenUsageFrom(chunk.usage) : undefined
    if (usage) this.usage = usage
    if (Array.isArray(chunk.choices)) this.countDeltas(chunk.choices)
    const usageOnly = usage !== undefined && Array.isArray(chunk.choices) && chunk.choices.length === 0
    return !(usageOnly && !this.opts.clientWantsUsage)
  }

  private countDeltas(choices: unknown[]): void {
    for (const choice of choices) {
      const delta = (choice as { delta?: { content?: unknown; reasoning_content?: unknown; tool_calls?: unknown } } | null)?.delta
      if (!delta) continue
      const before = this.contentChars + this.reasoningChars
      if (typeof delta.content === 'string' && delta.content.length > 0) {
        this.contentChars += delta.content.length
        this.contentDeltas++
      }
      if (typeof delta.reasoning_content === 'string' && delta.reasoning_content.length > 0) {
        this.reasoningChars += delta.reasoning_content.length
        this.reasoningDeltas++
      }
      if (Array.isArray(delta.tool_calls)) {
        for (const call of delta.tool_calls) {
          const fn = (call as { function?: { name?: unknown; arguments?: unknown } } | null)?.function
          if (typeof fn?.arguments === 'string') this.contentChars += fn.arguments.length
          if (typeof fn?.name === 'string') this.contentChars += fn.name.length
        }
      }
      if (this.firstTokenAt === undefined && this.contentChars + this.reasoningChars > before) this.firstTokenAt = this.opts.now()
    }
  }
}

const EMPTY = new Uint8Array(0)

/** Index just past the last blank line (event terminator), or -1. SSE allows \n, \r\n and \r. */
function lastEventEnd(text: string): number {
  const lf = text.lastIndexOf('\n\n')
  const crlf = text.lastIndexOf('\r\n\r\n')
  if (crlf >= 0 && crlf + 4 > lf + 2) return crlf + 4
  return lf >= 0 ? lf + 2 : -1
}

function* splitEvents(text: string): Generator<{ raw: string; body: string }> {
  const re = /\r?\n\r?\n/g
  let start = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const end = m.index + m[0].length
    yield { raw: text.slice(start, end), body: text.slice(start, m.index) }
    start = end
  }
  if (start < text.length) yield { raw: text.slice(start), body: text.slice(start) }
}

/** The joined `data:` lines of one event, or undefined for comments and other fields. */
function dataOf(eventBody: string): string | undefined {
  let data: string | undefined
  for (const line of eventBody.split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue
    const value = line.slice(line[5] === ' ' ? 6 : 5)
    data = data === undefined ? value : `${data}\n${value}`
  }
  return data
}
