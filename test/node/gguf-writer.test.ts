import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readGgufFileInfo } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GgmlType } from '../../node-host/gguf/constants.js'
import { encodeValues } from '../../node-host/gguf/encode.js'
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../node-host/gguf/fp16.js'
import { deepseek2Layout } from '../../node-host/gguf/layouts/deepseek2.js'
import { kv } from '../../node-host/gguf/metadata.js'
import { gaussian, mulberry32 } from '../../node-host/gguf/prng.js'
import { DEEPSEEK2_SHAPES } from '../../node-host/gguf/presets.js'
import { readGgufHeader } from '../../node-host/gguf/reader.js'
import { buildTestModelLayout, ensureTestModel, testModelFileName } from '../../node-host/gguf/test-models.js'
import { buildTinyVocab, byteToUnicodeTable } from '../../node-host/gguf/vocab.js'
import { writeGguf, type GgufTensorSpec } from '../../node-host/gguf/writer.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gguf-writer-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const ramp = (scale: number) => (out: Float32Array, first: number) => {
  for (let i = 0; i < out.length; i++) out[i] = ((first + i) % 17) * scale - 8 * scale
}

describe('fp16 and Q8_0 encoding', () => {
  it('converts float32 to IEEE half with round-to-nearest-even', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00)
    expect(float32ToFloat16Bits(-2)).toBe(0xc000)
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff)
    expect(float32ToFloat16Bits(1e6)).toBe(0x7c00) // overflow -> inf
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001) // smallest subnormal
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00) // tie rounds to even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02)
    for (const value of [0.1, -0.02, 3.14159, 1e-3]) {
      // half precision: 11 significant bits, so relative error <= 2^-11
      expect(Math.abs(float16BitsToFloat32(float32ToFloat16Bits(value)) - value)).toBeLessThanOrEqual(Math.abs(value) * 2 ** -11)
    }
  })

  it('quantizes Q8_0 blocks to an f16 scale plus 32 int8 values', () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => (i < 32 ? (i - 16) / 10 : -(i - 32) / 100))
    const out = new Uint8Array(68)
    expect(encodeValues(GgmlType.Q8_0, values, out)).toBe(68)
    const view = new DataView(out.buffer)
    for (let block = 0; block < 2; block++) {
      const scale = float16BitsToFloat32(view.getUint16(block * 34, true))
      const absMax = Math.max(...values.subarray(block * 32, block * 32 + 32).map(Math.abs))
      expect(scale).toBeCloseTo(absMax / 127, 5)
      for (let i = 0; i < 32; i++) {
        const decoded = view.getInt8(block * 34 + 2 + i) * scale
        // rounding (d/2) plus the f16 rounding of d itself (127 * d * 2^-11)
        expect(Math.abs(decoded - values[block * 32 + i]!)).toBeLessThanOrEqual(scale * 0.57)
      }
    }
  })
})

describe('writeGguf + readGgufHeader', () => {
  const metadata = [
    ['general.architecture', kv.str('llama')],
    ['test.u8', kv.u8(250)],
    ['test.i8', kv.i8(-5)],
    ['test.u16', kv.u16(65000)],
    ['test.i16', kv.i16(-30000)],
    ['test.u32', kv.u32(4_000_000_000)],
    ['test.i32', kv.i32(-2_000_000_000)],
    ['test.f32', kv.f32(0.5)],
    ['test.f64', kv.f64(Math.PI)],
    ['test.bool', kv.bool(true)],
    ['test.u64', kv.u64(2n ** 60n)],
    ['test.i64', kv.i64(-42)],
    ['test.string', kv.str('héllo ✓')],
    ['test.strings', kv.strings(['a', '', 'ü b'])],
    ['test.i32s', kv.i32s([1, -2, 3])],
    ['test.f32s', kv.f32s([0.25, -1.5])],
  ] as const
  const tensors: GgufTensorSpec[] = [
    { name: 'a.f32', dims: [5, 3], type: GgmlType.F32, fill: ramp(0.5) },
    { name: 'b.f16', dims: [7], type: GgmlType.F16, fill: ramp(0.25) },
    { name: 'c.q8_0', dims: [64, 2, 3], type: GgmlType.Q8_0, fill: ramp(0.01) },
  ]

  it('round-trips every metadata type and tensor info, with aligned offsets', async () => {
    const path = join(dir, 'all-types.gguf')
    const result = await writeGguf(path, { metadata, tensors, alignment: 64 })
    const header = await readGgufHeader(path)

    expect(header.version).toBe(3)
    expect(header.alignment).toBe(64)
    expect(header.metadata['general.alignment']).toBe(64)
    expect(header.metadata['test.u8']).toBe(250)
    expect(header.metadata['test.i8']).toBe(-5)
    expect(header.metadata['test.u16']).toBe(65000)
    expect(header.metadata['test.i16']).toBe(-30000)
    expect(header.metadata['test.u32']).toBe(4_000_000_000)
    expect(header.metadata['test.i32']).toBe(-2_000_000_000)
    expect(header.metadata['test.f32']).toBe(0.5)
    expect(header.metadata['test.f64']).toBe(Math.PI)
    expect(header.metadata['test.bool']).toBe(true)
    expect(header.metadata['test.u64']).toBe(2n ** 60n)
    expect(header.metadata['test.i64']).toBe(-42)
    expect(header.metadata['test.string']).toBe('héllo ✓')
    expect(header.metadata['test.strings']).toEqual(['a', '', 'ü b'])
    expect(header.metadata['test.i32s']).toEqual([1, -2, 3])
    expect(header.metadata['test.f32s']).toEqual([0.25, -1.5])

    expect(header.tensors.map((t) => [t.name, t.dims, t.typeName, t.byteSize])).toEqual([
      ['a.f32', [5, 3], 'F32', 60],
      ['b.f16', [7], 'F16', 14],
      ['c.q8_0', [64, 2, 3], 'Q8_0', 12 * 34],
    ])
    expect(header.tensors.map((t) => t.offsetBytes)).toEqual([0, 64, 128])
    expect(header.dataOffsetBytes % 64).toBe(0)
    expect(header.dataOffsetBytes).toBe(result.dataOffsetBytes)
    expect((await stat(path)).size).toBe(result.fileBytes)
    expect(result.fileBytes).toBe(header.dataOffsetBytes + 128 + 448)

    // tensor bytes sit at data offset + tensor offset
    const bytes = await readFile(path)
    const f32 = header.tensors[0]!
    const at = header.dataOffsetBytes + f32.offsetBytes
    expect(bytes.readFloatLE(at)).toBe(-4)
    expect(bytes.readFloatLE(at + 4 * 14)).toBe(3)
    const f16 = header.tensors[1]!
    expect(float16BitsToFloat32(bytes.readUInt16LE(header.dataOffsetBytes + f16.offsetBytes + 2))).toBe(-1.75)
  })

  it('is readable by node-llama-cpp’s independent GGUF parser', async () => {
    const path = join(dir, 'cross-check.gguf')
    const written = await writeGguf(path, { metadata, tensors })
    const info = await readGgufFileInfo(path, { readTensorInfo: true, logWarnings: false })
    expect(info.version).toBe(3)
    expect(info.tensorCount).toBe(3)
    expect(info.fullTensorInfo?.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType])).toEqual([
      ['a.f32', [5, 3], GgmlType.F32],
      ['b.f16', [7], GgmlType.F16],
      ['c.q8_0', [64, 2, 3], GgmlType.Q8_0],
    ])
    // node-llama-cpp nests dotted keys
    const nested = info.metadata as unknown as { test: { string: string; strings: string[] } }
    expect(nested.test.string).toBe('héllo ✓')
    expect(nested.test.strings).toEqual(['a', '', 'ü b'])
    expect(info.infoEndOffset).toBe(written.dataOffsetBytes)
  })

  it('rejects duplicate tensor names and ragged Q8_0 rows', async () => {
    const path = join(dir, 'bad.gguf')
    await expect(writeGguf(path, { metadata: [], tensors: [tensors[0]!, tensors[0]!] })).rejects.toThrow(/duplicate/)
    await expect(
      writeGguf(path, { metadata: [], tensors: [{ name: 'x', dims: [33], type: GgmlType.Q8_0, fill: ramp(1) }] }),
    ).rejects.toThrow(/multiple of 32/)
  })
})

describe('seeded PRNG', () => {
  it('gives reproducible standard-normal samples', () => {
    const sample = (seed: number) => {
      const next = gaussian(mulberry32(seed))
      return Array.from({ length: 20_000 }, next)
    }
    const values = sample(7)
    expect(sample(7)).toEqual(values)
    expect(sample(8)).not.toEqual(values)
    const mean = values.reduce((a, b) => a + b, 0) / values.length
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length
    expect(Math.abs(mean)).toBeLessThan(0.03)
    expect(Math.abs(Math.sqrt(variance) - 1)).toBeLessThan(0.03)
  })
})

describe('vocabulary', () => {
  it('covers all 256 bytes and adds every merge result as a token', () => {
    const table = byteToUnicodeTable()
    expect(new Set(table).size).toBe(256)
    expect(table[' '.charCodeAt(0)]).toBe('Ġ')
    const vocab = buildTinyVocab()
    expect(vocab.tokens.length).toBeGreaterThan(512)
    expect(vocab.tokens.length).toBeLessThan(1000)
    expect(new Set(vocab.tokens).size).toBe(vocab.tokens.length)
    const known = new Set(vocab.tokens)
    for (const merge of vocab.merges) expect(known.has(merge.replace(' ', ''))).toBe(true)
    for (const special of ['<|im_start|>', '<|im_end|>', '<think>', '</think>']) expect(known.has(special)).toBe(true)
    expect(vocab.tokens[vocab.eosId]).toBe('<|im_end|>')
  })
})

describe('model layouts', () => {
  it('deepseek2 uses attn_q_a/q_b with q lora and plain attn_q without it', () => {
    const vocab = buildTinyVocab()
    const options = { seed: 1, quant: 'q8_0' as const, name: 't' }
    const withLora = deepseek2Layout(DEEPSEEK2_SHAPES.tiny, vocab, options).tensors.map((t) => t.name)
    const noLora = deepseek2Layout({ ...DEEPSEEK2_SHAPES.tiny, qLoraRank: 0 }, vocab, options).tensors.map((t) => t.name)
    expect(withLora).toContain('blk.0.attn_q_b.weight')
    expect(withLora).not.toContain('blk.0.attn_q.weight')
    expect(noLora).toContain('blk.0.attn_q.weight')
    expect(noLora).not.toContain('blk.0.attn_q_a.weight')
    // block 0 is the leading dense block; MoE tensors start at block 1
    expect(withLora).toContain('blk.0.ffn_up.weight')
    expect(withLora).not.toContain('blk.0.ffn_gate_inp.weight')
    expect(withLora).toContain('blk.1.exp_probs_b.bias')
    expect(withLora).toContain('blk.1.ffn_down_shexp.weight')
  })

  it('keeps norms and router in F32 and falls back to F16 where Q8_0 blocks do not fit', () => {
    const layout = buildTestModelLayout({ layout: 'llama-moe', quant: 'q8_0' })
    const typeOf = (name: string) => layout.tensors.find((t) => t.name === name)?.type
    expect(typeOf('blk.0.attn_norm.weight')).toBe(GgmlType.F32)
    expect(typeOf('blk.0.ffn_gate_inp.weight')).toBe(GgmlType.F32)
    expect(typeOf('blk.0.ffn_up_exps.weight')).toBe(GgmlType.Q8_0)
  })
})

describe('ensureTestModel', () => {
  const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex')

  it('caches by options, writes atomically and is deterministic per seed', async () => {
    const cacheDir = join(dir, 'cache')
    const [first, concurrent] = await Promise.all([
      ensureTestModel({ layout: 'llama-moe', seed: 3, dir: cacheDir }),
      ensureTestModel({ layout: 'llama-moe', seed: 3, dir: cacheDir }),
    ])
    expect(concurrent).toBe(first)
    const firstStat = await stat(first)
    expect(await ensureTestModel({ layout: 'llama-moe', seed: 3, dir: cacheDir })).toBe(first)
    expect((await stat(first)).mtimeMs).toBe(firstStat.mtimeMs) // not rewritten

    const otherDir = join(dir, 'cache-2')
    const again = await ensureTestModel({ layout: 'llama-moe', seed: 3, dir: otherDir })
    expect(await sha(again)).toBe(await sha(first))
    const otherSeed = await ensureTestModel({ layout: 'llama-moe', seed: 4, dir: cacheDir })
    expect(otherSeed).not.toBe(first)
    expect(await sha(otherSeed)).not.toBe(await sha(first))
    expect((await readdir(cacheDir)).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('derives distinct file names from the options', () => {
    const names = new Set([
      testModelFileName({ layout: 'llama-moe' }),
      testModelFileName({ layout: 'deepseek2' }),
      testModelFileName({ layout: 'llama-moe', quant: 'f16' }),
      testModelFileName({ layout: 'llama-moe', size: 'demo' }),
      testModelFileName({ layout: 'llama-moe', seed: 2 }),
    ])
    expect(names.size).toBe(5)
    expect(testModelFileName({ layout: 'llama-moe' })).toBe(testModelFileName({ layout: 'llama-moe', seed: 1, size: 'tiny', quant: 'q8_0' }))
  })
})
