/**
 * Splits R1-style output `<think>thoughts</think>answer` into reasoning and content, as the DeepSeek API
 * returns them (`reasoning_content` and `content`). Streaming: tags may arrive split across tokens, so a
 * suffix that could still become a tag is held back until the next push (or `flush`).
 *
 * A think block is recognised only at the very start of the output (after whitespace), as R1 emits it;
 * a `<think>` later in an answer is plain content.
 */

export const THINK_OPEN = '<think>'
export const THINK_CLOSE = '</think>'

export interface SplitDelta {
  reasoning: string
  content: string
}

export interface ReasoningSplitter {
  push(text: string): SplitDelta
  /** Releases whatever is held back; call once at the end. */
  flush(): SplitDelta
  /** True while text goes to reasoning. */
  readonly inReasoning: boolean
}

type State = 'start' | 'reasoning' | 'content'

/** Length of the longest suffix of `text` that is a proper prefix of `tag`. */
export function partialTagSuffix(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (tag.startsWith(text.slice(text.length - n))) return n
  }
  return 0
}

/**
 * @param startInReasoning the prompt already ended with `<think>` (newer R1 templates add it), so output
 * begins inside the think block.
 */
export function createReasoningSplitter(opts: { startInReasoning?: boolean } = {}): ReasoningSplitter {
  let state: State = opts.startInReasoning ? 'reasoning' : 'start'
  let held = ''
  // Whitespace right after a tag is formatting, not text (DeepSeek strips it too).
  let trimLeading = opts.startInReasoning ?? false

  const emit = (to: 'reasoning' | 'content', text: string): SplitDelta => {
    if (trimLeading) {
      text = text.trimStart()
      if (text) trimLeading = false
    }
    return to === 'reasoning' ? { reasoning: text, content: '' } : { reasoning: '', content: text }
  }
  const merge = (a: SplitDelta, b: SplitDelta): SplitDelta => ({ reasoning: a.reasoning + b.reasoning, content: a.content + b.content })

  function step(): SplitDelta {
    if (state === 'start') {
      const trimmed = held.trimStart()
      if (trimmed.startsWith(THINK_OPEN)) {
        held = trimmed.slice(THINK_OPEN.length)
        state = 'reasoning'
        trimLeading = true
        return step()
      }
      if (THINK_OPEN.startsWith(trimmed)) return { reasoning: '', content: '' } // still undecided
      state = 'content'
      const text = held
      held = ''
      return emit('content', text)
    }
    if (state === 'reasoning') {
      const end = held.indexOf(THINK_CLOSE)
      if (end >= 0) {
        const before = emit('reasoning', held.slice(0, end))
        held = held.slice(end + THINK_CLOSE.length)
        state = 'content'
        trimLeading = true
        return merge(before, step())
      }
      const keep = partialTagSuffix(held, THINK_CLOSE)
      const text = held.slice(0, held.length - keep)
      held = held.slice(held.length - keep)
      return emit('reasoning', text)
    }
    const text = held
    held = ''
    return emit('content', text)
  }

  return {
    push(text) {
      held += text
      return step()
    },
    flush() {
      const text = held
      held = ''
      if (!text) return { reasoning: '', content: '' }
      return emit(state === 'reasoning' ? 'reasoning' : 'content', text)
    },
    get inReasoning() {
      return state === 'reasoning'
    },
  }
}
