// A lone UTF-16 surrogate cannot be encoded as UTF-8: sqld refuses the whole statement
// ("unexpected end of hex escape"), which once stalled every queued usage row behind one bad model name.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * Text from clients or upstreams made safe to store: well-formed UTF-16 and bounded length.
 * @example storableText('deepseek-\uD800', 256) // 'deepseek-\uFFFD'
 */
export function storableText(value: string | null, maxLength = 256): string | null {
  if (value === null) return null
  const bounded = value.length > maxLength ? value.slice(0, maxLength) : value
  return bounded.replace(LONE_SURROGATE, '\uFFFD')
}
