/**
 * Finds OpenAI `stop` strings in streamed text. Text that might be the start of a stop string is held
 * back, so a stop string is never partly sent before it is recognised. The stop string itself is not output.
 */

export interface StopMatcher {
  /** Returns the text safe to send now, and whether a stop string was reached (text after it is dropped). */
  push(text: string): { text: string; stopped: boolean }
  /** Releases held-back text at the end of generation. */
  flush(): string
}

export function createStopMatcher(stops: readonly string[]): StopMatcher {
  const patterns = stops.filter((s) => s.length > 0)
  let held = ''

  /** Longest suffix of `text` that is a proper prefix of some stop string. */
  const heldBackLength = (text: string): number => {
    let best = 0
    for (const stop of patterns) {
      for (let n = Math.min(stop.length - 1, text.length); n > best; n--) {
        if (text.endsWith(stop.slice(0, n))) {
          best = n
          break
        }
      }
    }
    return best
  }

  return {
    push(text) {
      if (patterns.length === 0) return { text, stopped: false }
      held += text
      let first = -1
      for (const stop of patterns) {
        const at = held.indexOf(stop)
        if (at >= 0 && (first < 0 || at < first)) first = at
      }
      if (first >= 0) {
        const out = held.slice(0, first)
        held = ''
        return { text: out, stopped: true }
      }
      const keep = heldBackLength(held)
      const out = held.slice(0, held.length - keep)
      held = held.slice(held.length - keep)
      return { text: out, stopped: false }
    },
    flush() {
      const out = held
      held = ''
      return out
    },
  }
}
