/** What a client saw of one SSE response. */
export interface SseTranscript {
  text: string
  /** `data:` payloads other than [DONE], parsed where they are JSON, else the raw string. */
  data: unknown[]
  comments: number
  sawDone: boolean
  /** The code of an `{error: {code}}` data event, if one came. */
  errorCode: string | undefined
  /** True when the deadline ran out before the server ended the stream (a hang). */
  timedOut: boolean
}

export function parseSse(text: string, timedOut = false): SseTranscript {
  const data: unknown[] = []
  let comments = 0
  let sawDone = false
  let errorCode: string | undefined
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith(':')) comments++
    if (!line.startsWith('data: ')) continue
    const payload = line.slice(6)
    if (payload === '[DONE]') {
      sawDone = true
      continue
    }
    let value: unknown
    try {
      value = JSON.parse(payload)
    } catch {
      value = payload
    }
    data.push(value)
    const code = (value as { error?: { code?: unknown } } | null)?.error?.code
    if (typeof code === 'string') errorCode = code
  }
  return { text, data, comments, sawDone, errorCode, timedOut }
}

/** Reads a response body in the background, with a hard deadline, so no test can hang on it. */
export class SseCollector {
  text = ''
  /** The first chunk the client received: shows what a gateway held back or let through. */
  firstChunk: string | undefined
  readonly finished: Promise<SseTranscript>

  constructor(res: Response, deadlineMs: number) {
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    this.finished = (async () => {
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        reader.cancel(new Error('client deadline')).catch(() => {})
      }, deadlineMs)
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          const piece = decoder.decode(value, { stream: true })
          this.firstChunk ??= piece
          this.text += piece
        }
      } catch {
        // A broken connection: what arrived so far is the transcript.
      } finally {
        clearTimeout(timer)
      }
      return parseSse(this.text, timedOut)
    })()
  }

  /** Non-empty content deltas seen so far (the first delta carries an empty content). */
  contentDeltas(): number {
    return (this.text.match(/"content":"[^"]/g) ?? []).length
  }
}
