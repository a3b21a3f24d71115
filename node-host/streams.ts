/** Web stream helpers (the DOM lib types ReadableStream without async iteration). */

export async function* readChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    // Cancels the source when the consumer stops early (client gone), which frees upstream connections.
    await reader.cancel().catch(() => {})
  }
}
