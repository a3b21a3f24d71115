/**
 * fast-check arbitraries for hostile HTTP requests to the gateway, each rendered to raw bytes
 * (so nothing is sanitized on the way out): bad JSON, wrong field types, huge numbers, deep
 * nesting, invalid UTF-8, oversized bodies, header injection, wrong methods, absurd paths,
 * malformed Authorization headers.
 */
import fc from 'fast-check'

export interface HostileRequest {
  /** Which generator made it, for failure reports and counts. */
  kind: string
  method: string
  /** Request target exactly as written on the request line. */
  target: string
  /** Header lines exactly as written (may contain anything, CR/LF included). */
  headerLines: string[]
  body: Buffer
  /** Send the body chunked instead of with a content-length. */
  chunked: boolean
  /** A valid key, a sane request line and headers: the chat handler must run and leave a usage row. */
  reachesHandler: boolean
}

export interface HostileContext {
  key: string
  /** A syntactically valid key the gateway does not know. */
  unknownKey: string
  maxBodyBytes: number
}

export const CHAT_PATH = '/v1/chat/completions'
const MODEL = 'deepseek-flash'

/** The request's bytes; a content-length is added unless the body is chunked or the caller wrote one. */
export function renderRequest(r: HostileRequest): Buffer {
  const hasLength = r.headerLines.some((l) => /^content-length:/i.test(l))
  const framing = r.chunked ? ['transfer-encoding: chunked'] : hasLength || r.body.length === 0 ? [] : [`content-length: ${r.body.length}`]
  const head = [`${r.method} ${r.target} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', ...r.headerLines, ...framing].join('\r\n') + '\r\n\r\n'
  if (!r.chunked) return Buffer.concat([Buffer.from(head, 'latin1'), r.body])
  // Several chunks, so the server's streamed (unknown length) reader counts across reads.
  const parts: Buffer[] = [Buffer.from(head, 'latin1')]
  for (let at = 0; at < r.body.length; at += 16_384) {
    const piece = r.body.subarray(at, at + 16_384)
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), piece, Buffer.from('\r\n', 'latin1'))
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'))
  return Buffer.concat(parts)
}

function chat(ctx: HostileContext, kind: string, body: Buffer | string, chunked = false): HostileRequest {
  return {
    kind,
    method: 'POST',
    target: CHAT_PATH,
    headerLines: [`authorization: Bearer ${ctx.key}`, 'content-type: application/json'],
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    chunked,
    reachesHandler: true,
  }
}

const userMessage = { role: 'user', content: 'hello' }

/** Values no field expects, including the JSON edge cases. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -0, -1, 1.5, 1e308, -1e308, 5e-324, 2 ** 53 + 2, '', ' ', 'NaN', 'Infinity', '-0', '1e999', [], {}, [null], { role: 'user' }, '\u0000', '\ud800', '\u202e', 'x'.repeat(300), 'deepseek-flash'),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double(),
)

const FIELDS = ['model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'tools', 'tool_choice', 'response_format', 'stop', 'n', 'user', 'logprobs', 'seed', 'thinking', 'reasoning_effort', '__proto__', 'constructor'] as const

/** A chat body with some known fields replaced by values of the wrong type (messages' parts included). */
function wrongTypes(ctx: HostileContext): fc.Arbitrary<HostileRequest> {
  const message = fc.record(
    { role: fc.oneof(fc.constantFrom('user', 'system', 'assistant', 'tool'), oddValue), content: oddValue, name: oddValue, tool_calls: oddValue, tool_call_id: oddValue },
    { requiredKeys: ['role'] },
  )
  const fields = fc.dictionary(fc.constantFrom(...FIELDS), oddValue, { minKeys: 1, maxKeys: 4 })
  return fc.tuple(fields, fc.option(fc.array(message, { minLength: 0, maxLength: 3 })), fc.boolean(), fc.boolean()).map(([overrides, messages, stream, chunked]) => {
    const body: Record<string, unknown> = { model: MODEL, messages: messages ?? [userMessage], stream }
    // defineProperty: plain assignment of '__proto__' would set the prototype, not a JSON field.
    for (const [name, value] of Object.entries(overrides)) Object.defineProperty(body, name, { value, enumerable: true, writable: true, configurable: true })
    return chat(ctx, 'wrong-types', JSON.stringify(body), chunked)
  })
}

const VALID_JSON = JSON.stringify({ model: MODEL, messages: [userMessage], max_tokens: 8 })

/** Bytes that are not a JSON object: truncations, garbage, invalid UTF-8, BOMs, lone surrogates. */
function badJson(ctx: HostileContext): fc.Arbitrary<HostileRequest> {
  const truncated = fc.integer({ min: 0, max: VALID_JSON.length - 1 }).map((n) => Buffer.from(VALID_JSON.slice(0, n)))
  const garbage = fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s, 'utf8'))
  const bytes = fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b))
  const badUtf8 = fc.tuple(fc.integer({ min: 0, max: VALID_JSON.length }), fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x80])).map(([at, bad]) =>
    Buffer.concat([Buffer.from(VALID_JSON.slice(0, at)), Buffer.from(bad), Buffer.from(VALID_JSON.slice(at))]),
  )
  const odd = fc.constantFrom(
    '', 'null', 'true', '0', '"x"', '[]', '{}', '\ufeff' + VALID_JSON, VALID_JSON + VALID_JSON, VALID_JSON + ' garbage', `{"model":"${MODEL}","model":1,"messages":[{"role":"user","content":"x"}]}`,
    '{"model":"\\ud800","messages":[{"role":"user","content":"\\udfff"}]}', `{"model":"${MODEL}","messages":[{"role":"user","content":"x"}],}`, "{'model':'x'}", 'NaN', '{"a":1e999999999}',
  ).map((s) => Buffer.from(s, 'utf8'))
  return fc.tuple(fc.oneof(truncated, garbage, bytes, badUtf8, odd), fc.boolean()).map(([body, chunked]) => chat(ctx, 'bad-json', body, chunked))
}

const NUMERIC_FIELDS = ['max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'n', 'seed', 'presence_penalty', 'frequency_penalty', 'top_logprobs'] as const
const NUMBER_LITERALS = ['1e308', '-1e308', '1e999', '-1e999', '-0', '0', '5e-324', '1e-400', '9007199254740993', '123456789012345678901234567890123456789', '1.0', '8.5', '"NaN"', '"Infinity"', '"-0"', '"1e308"', 'NaN', 'Infinity', '-', '1.', '01', '+1', '0x1F', '.5', '1_000', '--1', '1e', 'null', 'true', '[8]', '{"n":8}']

/** Number fields written as raw literals, valid JSON or not. */
function hugeNumbers(ctx: HostileContext): fc.Arbitrary<HostileRequest> {
  return fc.tuple(fc.constantFrom(...NUMERIC_FIELDS), fc.constantFrom(...NUMBER_LITERALS), fc.boolean()).map(([field, literal, stream]) =>
    chat(ctx, 'huge-numbers', `{"model":"${MODEL}","messages":[{"role":"user","content":"hi"}],"stream":${stream},"${field}":${literal}}`),
  )
}

/** 1k to 60k levels of arrays or objects in a field, the messages or a message's content. */
function deepNesting(ctx: HostileContext): fc.Arbitrary<HostileRequest> {
  const where = fc.constantFrom('content', 'tools', 'message', 'extra', 'messages-item', 'model')
  return fc.tuple(fc.integer({ min: 1_000, max: 60_000 }), fc.constantFrom('array', 'object', 'mixed'), where).map(([depth, shape, at]) => {
    const open = shape === 'array' ? '[' : shape === 'object' ? '{"a":' : '[{"a":'
    const close = shape === 'array' ? ']' : shape === 'object' ? '}' : '}]'
    const reps = shape === 'mixed' ? Math.floor(depth / 2) : depth
    const nested = open.repeat(reps) + '1' + close.repeat(reps)
    const msg = (content: string) => `{"role":"user","content":${content}}`
    const body =
      at === 'content' ? `{"model":"${MODEL}","messages":[${msg(nested)}]}`
      : at === 'tools' ? `{"model":"${MODEL}","messages":[${msg('"hi"')}],"tools":${nested}}`
      : at === 'message' ? `{"model":"${MODEL}","messages":[${msg('"hi"')},${nested}]}`
      : at === 'messages-item' ? `{"model":"${MODEL}","messages":${nested}}`
      : at === 'model' ? `{"model":${nested},"messages":[${msg('"hi"')}]}`
      : `{"model":"${MODEL}","messages":[${msg('"hi"')}],"extra":${nested}}`
    return chat(ctx, 'deep-nesting', body)
  })
}

/** Bodies just over the limit and far over it, with a content-length, chunked, or declaring a huge length. */
function oversized(ctx: HostileContext): fc.Arbitrary<HostileRequest> {
  return fc.tuple(fc.integer({ min: 1, max: ctx.maxBodyBytes * 2 }), fc.constantFrom('length', 'chunked', 'declared-only')).map(([extra, framing]) => {
    if (framing === 'declared-only') {
      // The length alone must be refused: nothing is sent after the head.
      const r = chat(ctx, 'oversized', '')
      return { ...r, headerLines: [...r.headerLines, `content-length: ${ctx.maxBodyBytes + extra}`] }
    }
    const filler = 'x'.repeat(ctx.maxBodyBytes + extra)
    return chat(ctx, 'oversized', `{"model":"${MODEL}","messages":[{"role":"user","content":"${filler}"}]}`, framing === 'chunked')
  })
}

const INJECTIONS = ['\r\nx-injected: 1', '\nx-injected: 1', '\r\n\r\nGET /health HTTP/1.1', '\rx', '\u0000', 'a\u0000b', ' \r\n folded', '\u00ff\u00fe', '\u0007', '\r\ncontent-length: 0', '\r\ntransfer-encoding: chunked']

/** CR/LF, NUL and control bytes inside header names and values, duplicate or conflicting framing headers. */
function headerInjection(ctx: HostileContext): fc.Arbitrary<HostileRequest> {
  const header = fc.constantFrom('authorization', 'content-type', 'x-moe-backend', 'user-agent', 'x-request-id', 'host', 'accept', 'x-forwarded-for')
  const injected = fc.tuple(header, fc.constantFrom(...INJECTIONS), fc.boolean()).map(([name, inj, inName]) => (inName ? `${name}${inj}: v` : name === 'authorization' ? `authorization: Bearer ${ctx.key}${inj}` : `${name}: v${inj}`))
  const framing = fc.constantFrom(
    ['content-length: 5', 'content-length: 6'],
    ['content-length: 10', 'transfer-encoding: chunked'],
    ['transfer-encoding: chunked, identity'],
    ['transfer-encoding: gzip'],
    ['content-length: -1'],
    ['content-length: 1e3'],
    ['content-length: 99999999999999999999999'],
    ['host: a', 'host: b'],
    ['expect: 100-continue'],
    ['content-encoding: gzip'],
    ['content-type: application/json; charset=utf-16'],
    ['x-moe-backend: hosted, local'],
    ['x-moe-backend: ' + 'x'.repeat(5000)],
    ['big: ' + 'y'.repeat(20_000)],
  )
  return fc.tuple(fc.oneof(injected.map((l) => [l]), framing)).map(([lines]) => {
    const r = chat(ctx, 'header-injection', VALID_JSON)
    // Keep our own authorization unless the injection replaces it.
    const own = lines.some((l) => /^authorization/i.test(l)) ? [] : [`authorization: Bearer ${ctx.key}`]
    return { ...r, headerLines: [...own, 'content-type: application/json', ...lines], reachesHandler: false }
  })
}

const METHODS = ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'CONNECT', 'PROPFIND', 'FOO', 'post', 'P0ST', 'GET /x', '']
const ROUTES = [CHAT_PATH, '/v1/models', '/v1/usage', '/admin/keys', '/admin/teams', '/health', '/']

function wrongMethods(ctx: HostileContext): fc.Arbitrary<HostileRequest> {
  return fc.tuple(fc.constantFrom(...METHODS), fc.constantFrom(...ROUTES), fc.boolean()).map(([method, route, withBody]) => {
    const r = chat(ctx, 'wrong-method', withBody ? VALID_JSON : '')
    return { ...r, method, target: route, reachesHandler: false }
  })
}

const PATHS = [
  '/v1/chat/completions/', '//v1/chat/completions', '/v1//chat/completions', '/v1/chat/../chat/completions', '/v1/chat/completions/..', '/v1/%2e%2e/admin/keys', '/v1/chat%2Fcompletions',
  '/v1/chat/completions%00', '/v1/chat/completions;x=1', '/V1/CHAT/COMPLETIONS', '/v1/chat/completions?stream=true&model=x', '/v1/chat/completions?%zz', '/v1/%zz', '/%E0%A4%A', '/%ff%fe',
  '/admin/../v1/chat/completions', '/admin/keys/..%2f..%2fteams', '/admin/teams/%00', '/admin/keys/%25', '/v1/usage?from=%zz&to=9999999999999999999', '/v1/usage?from=1e999',
  // Left out, known: '*' and '/\\..' targets make no URL, and @hono/node-server answers them a bare 400
  // with an empty body before the app runs (serve() takes no errorHandler). Not a 5xx; not yet JSON.
  'http://evil.example/v1/chat/completions', 'v1/chat/completions', '/v1/chat/completions#frag', '/\u00e9', '/?' + '&'.repeat(3000),
]

/** Very long, traversing, percent-encoded and malformed request targets. */
function absurdPaths(ctx: HostileContext): fc.Arbitrary<HostileRequest> {
  const long = fc.tuple(fc.integer({ min: 1_000, max: 70_000 }), fc.constantFrom('/v1/', '/admin/keys/', '/v1/chat/completions?q=', '/')).map(([n, prefix]) => prefix + 'a'.repeat(n))
  const encoded = fc.array(fc.constantFrom('%2e', '%2f', '%00', '%', '%zz', '..', '%c0%af', '%u002e', '/', 'a', '%ff'), { minLength: 1, maxLength: 30 }).map((parts) => '/v1/' + parts.join(''))
  return fc.tuple(fc.oneof(fc.constantFrom(...PATHS), long, encoded), fc.constantFrom('GET', 'POST')).map(([target, method]) => {
    const r = chat(ctx, 'absurd-path', method === 'POST' ? VALID_JSON : '')
    return { ...r, method, target, reachesHandler: false }
  })
}

/** Missing, malformed, unknown and oversized keys; several Authorization headers. */
function badAuthorization(ctx: HostileContext): fc.Arbitrary<HostileRequest> {
  const values = fc.oneof(
    fc.constantFrom(
      'Bearer', 'Bearer ', 'Bearer  ', `Bearer\t${ctx.unknownKey}`, `Basic ${Buffer.from('a:b').toString('base64')}`, `Token ${ctx.key}`, `Bearer ${ctx.key}x`, `Bearer ${ctx.key.slice(0, -1)}`,
      `Bearer ${ctx.key} ${ctx.key}`, `Bearer ${ctx.unknownKey}`, 'Bearer mgw_', 'Bearer null', 'Bearer undefined', `Bearer ${'k'.repeat(10_000)}`, 'Bearer \u00e9\u00e9', `${ctx.key}`, `Bearer "${ctx.key}"`,
      "Bearer ' OR 1=1 --", 'Bearer %00', 'Bearer ../../admin', `Bearer ${ctx.key.toUpperCase()}`,
    ),
    fc.string({ unit: 'grapheme-ascii', maxLength: 80 }).map((s) => `Bearer ${s}`),
    fc.string({ unit: 'grapheme-ascii', maxLength: 80 }),
  )
  const lines = fc.oneof(
    values.map((v) => [`authorization: ${v}`]),
    fc.constant<string[]>([]),
    fc.constant([`authorization: Bearer ${ctx.unknownKey}`, `authorization: Bearer ${ctx.key}`]),
  )
  return fc.tuple(lines, fc.constantFrom(CHAT_PATH, '/v1/models', '/v1/usage', '/admin/keys', '/admin/teams')).map(([auth, target]) => ({
    kind: 'bad-authorization',
    method: target === CHAT_PATH ? 'POST' : 'GET',
    target,
    headerLines: ['content-type: application/json', ...auth],
    body: Buffer.from(target === CHAT_PATH ? VALID_JSON : ''),
    chunked: false,
    // Unknown: a few variants (e.g. a lower-case scheme) still carry the valid key.
    reachesHandler: false,
  }))
}

/** How many requests of each kind the suite sends: 10,000 in all. */
export const RUNS_PER_KIND = {
  'wrong-types': 3_400,
  'bad-json': 1_500,
  'huge-numbers': 800,
  'deep-nesting': 200,
  oversized: 200,
  'header-injection': 900,
  'wrong-method': 500,
  'absurd-path': 1_000,
  'bad-authorization': 1_500,
} as const

export function hostileArbitraries(ctx: HostileContext): Record<keyof typeof RUNS_PER_KIND, fc.Arbitrary<HostileRequest>> {
  return {
    'wrong-types': wrongTypes(ctx),
    'bad-json': badJson(ctx),
    'huge-numbers': hugeNumbers(ctx),
    'deep-nesting': deepNesting(ctx),
    oversized: oversized(ctx),
    'header-injection': headerInjection(ctx),
    'wrong-method': wrongMethods(ctx),
    'absurd-path': absurdPaths(ctx),
    'bad-authorization': badAuthorization(ctx),
  }
}
