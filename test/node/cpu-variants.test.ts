/**
 * llama.cpp CPU variants: node-host serves with a variant proven to run the model, survives llama.cpp's
 * native aborts, and says why in one line. Every test runs on every CPU; where the CPU decides what
 * must happen (AMX or not), each branch asserts what that CPU must show.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCpuinfo, readCpuInfo } from '../../node-host/cpu/cpu-info.js'
import { findPrebuiltBins } from '../../node-host/cpu/prebuilt-bins.js'
import { missingFeatures, rankVariants } from '../../node-host/cpu/variants.js'
import { VerdictStore } from '../../node-host/cpu/verdicts.js'
import { ensureAbortingTestModel, ensureTestModel } from '../../node-host/gguf/test-models.js'
import { startNodeHost } from '../../node-host/serve.js'
import { freePort, waitFor } from '../support/net.js'
import { postChat, TEST_SECRET, testKey } from './node-host-helpers.js'

const BIN = fileURLToPath(new URL('../../bin/node-host.js', import.meta.url))
const children: ChildProcess[] = []
const cpu = readCpuInfo()
const hasAmx = cpu.flags.has('amx_int8')
let ranked: string[] = []

type Health = { status: string; cpu_variant?: string; error?: string }

beforeAll(async () => {
  ranked = rankVariants((await findPrebuiltBins()).variants, cpu.flags)
})

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

/** `node-host serve` as its own process; resolves once /health answers, with its output so far. */
async function serve(model: string, extra: string[], env: Record<string, string> = {}) {
  const port = await freePort()
  const child = spawn(process.execPath, [BIN, 'serve', '--model', model, '--port', String(port), '--threads', '1', '--parallel', '1', '--context', '256', ...extra], {
    env: { ...process.env, NODE_HOST_SECRET: TEST_SECRET, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  children.push(child)
  const out = { stderr: '' }
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()))
  const url = `http://127.0.0.1:${port}`
  // Settled: ready, or failed and still up to say why.
  const health = await waitFor(async () => {
    const res = await fetch(`${url}/health`).catch(() => undefined)
    const body = res ? ((await res.json()) as Health) : undefined
    return body && body.status !== 'loading' ? { status: res!.status, body } : undefined
  }, 60_000, 'node-host settled')
  return { child, url, out, health }
}

async function doctor(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [BIN, 'doctor', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { code, stdout }
}

describe('variant ranking (ggml cpu-feats scoring)', () => {
  const flagsOf = (flags: string) => parseCpuinfo(`model name\t: test\nflags\t\t: ${flags}\n`).flags
  const variants = ['x64', 'sse42', 'sandybridge', 'haswell', 'skylakex', 'icelake', 'cooperlake', 'zen4', 'alderlake', 'sapphirerapids']
  const haswell = 'sse4_2 avx f16c fma avx2 bmi2'
  const avx512 = `${haswell} avx512f avx512cd avx512vl avx512dq avx512bw`
  const sapphireRapids = `${avx512} avx512vbmi avx512_vnni avx512_bf16 avx_vnni amx_tile amx_int8 amx_bf16`

  it('puts sapphirerapids first on an AMX Xeon, and the AVX-512 BF16 build (no AMX) next', () => {
    expect(rankVariants(variants, flagsOf(sapphireRapids)).slice(0, 3)).toEqual(['sapphirerapids', 'zen4', 'cooperlake'])
  })

  it('never offers a variant whose features the CPU lacks, and names what is missing', () => {
    const ranked = rankVariants(variants, flagsOf(haswell))
    expect(ranked).toEqual(['haswell', 'sandybridge', 'sse42', 'x64'])
    expect(missingFeatures('sapphirerapids', flagsOf(avx512))).toEqual(['AVX512_VBMI', 'AVX512_VNNI', 'AVX512_BF16', 'AMX_INT8'])
    expect(rankVariants(variants, flagsOf(''))).toEqual(['x64'])
  })

  it('matches the variant ggml itself loads from the full folder on this CPU', async () => {
    const { stdout, code } = await doctor(['--json'])
    expect(code).toBe(0)
    const report = JSON.parse(stdout) as { ggml_loads: string[]; variants_ranked: { variant: string }[]; cpu: { model: string; amx: boolean } }
    expect(report.ggml_loads).toEqual([report.variants_ranked[0]!.variant])
    expect(report.variants_ranked.map((v) => v.variant)).toEqual(ranked)
    expect(report.cpu.model).toBe(/^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim())
    expect(report.cpu.amx).toBe(hasAmx)
  })
})

describe('serving with a chosen variant', () => {
  it('runs the portable x64 variant when forced, and really computes with it (no AVX in llama.cpp system info)', async () => {
    const model = await ensureTestModel({ layout: 'deepseek2', quant: 'q8_0' })
    const { url, out, health } = await serve(model, ['--cpu-variant', 'x64'])
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', cpu_variant: 'x64' } })
    expect(out.stderr).toContain('(llama.cpp CPU variant x64)')
    const features = /"cpu_features":"([^"]*)"/.exec(out.stderr)?.[1]
    expect(features).toMatch(/^CPU :/)
    expect(features).not.toMatch(/AVX2 = 1/)
    const res = await postChat(url, await testKey(), { messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 })
    expect(res.status).toBe(200)
  })

  it('deepseek2 F16 with sapphirerapids forced: a clear one-line refusal on every CPU, and auto serves it', async () => {
    const model = await ensureTestModel({ layout: 'deepseek2', quant: 'f16' })
    const forced = await serve(model, ['--cpu-variant', 'sapphirerapids', '--model-name', 'ds2-f16'])
    expect(forced.health.status).toBe(503)
    expect(forced.health.body.status).toBe('failed')
    const error = forced.health.body.error!
    expect(error).not.toContain('\n')
    expect(error).toContain('sapphirerapids')
    expect(error).toMatch(/Remedy: /)
    if (hasAmx) {
      // The real AMX case: context creation aborts in the probe child; node-host stays up.
      expect(error).toMatch(/model "ds2-f16" cannot run with llama\.cpp CPU variant sapphirerapids: context creation failed: .*GGML_ASSERT/)
    } else {
      expect(error).toMatch(/CPU variant sapphirerapids cannot run on this CPU \(.*no .*AMX_INT8\)/)
    }
    expect(forced.child.exitCode).toBeNull()
    const auto = await serve(model, ['--model-name', 'ds2-f16'])
    expect(auto.health).toMatchObject({ status: 200, body: { status: 'ok', cpu_variant: ranked.find((v) => v !== 'sapphirerapids') } })
  })

  it('auto skips a variant remembered as failing for the model and serves with the next best', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'moe-variant-cache-'))
    const model = await ensureTestModel({ layout: 'llama-moe', quant: 'f16' })
    const bins = await findPrebuiltBins()
    VerdictStore.in(cacheDir).set(
      { modelPath: model, cpuModel: cpu.modelName, cpuFlags: cpu.flags, buildVersion: bins.packageVersion },
      { ok: false, variant: ranked[0]!, stage: 'context creation', reason: 'GGML_ASSERT(test) failed (killed by SIGABRT)', atMs: Date.now() },
    )
    const { health, out } = await serve(model, [], { NODE_HOST_CACHE_DIR: cacheDir })
    expect(health).toMatchObject({ status: 200, body: { cpu_variant: ranked[1] } })
    expect(out.stderr).toContain(`"cpu_variant_reason":"${ranked[0]} failed at context creation with this model; ${ranked[1]} works"`)
    // The best variant was not probed again; the next one was, once.
    expect(out.stderr).not.toContain(`"msg":"cpu_variant.probe","model":"llama-moe`.concat(`","variant":"${ranked[0]}"`))
  })
})

describe('a native abort in llama.cpp', () => {
  it('never takes node-host down: it stays up, /health says why in one line, and the verdict is remembered', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'moe-variant-cache-'))
    const model = await ensureAbortingTestModel()
    const first = await serve(model, ['--model-name', 'broken'], { NODE_HOST_CACHE_DIR: cacheDir })
    expect(first.health.status).toBe(503)
    const tried = [ranked[0], ranked[1], 'x64'].map((v) => `${v} at model load`).join(', ')
    expect(first.health.body.error).toBe(
      `model "broken" aborted llama.cpp with every CPU variant tried (${tried}): src/llama-model.cpp:1260: GGML_ASSERT(n_expert_used_max <= hparams.n_expert) failed (killed by SIGABRT). ` +
        'Remedy: the file is damaged or not a model this llama.cpp build (node-llama-cpp 3.21.1) can run; check it with node-host doctor --model FILE',
    )
    expect(first.out.stderr).toContain(`error: ${first.health.body.error}`)
    expect(first.child.exitCode).toBeNull()
    expect((first.out.stderr.match(/"msg":"cpu_variant.probed"/g) ?? []).length).toBe(3)
    // A second start reads the verdicts instead of aborting three more children.
    const second = await serve(model, ['--model-name', 'broken'], { NODE_HOST_CACHE_DIR: cacheDir })
    expect(second.health.body.error).toContain('(remembered verdict;')
    expect(second.out.stderr).not.toContain('"msg":"cpu_variant.probe"')
  })

  it('in-process: startNodeHost rejects with the reason and this process lives on', async () => {
    const model = await ensureAbortingTestModel()
    await expect(startNodeHost({ model, modelName: 'broken', secret: TEST_SECRET, threads: 1, parallel: 1, contextSize: 256 })).rejects.toThrow(/aborted llama\.cpp with every CPU variant tried/)
    expect(process.exitCode ?? 0).toBe(0)
  })

  it('doctor reports the layout, storage type and known issue for a model', async () => {
    const model = await ensureTestModel({ layout: 'deepseek2', quant: 'q8_0' })
    // A cache of its own: other files' probes (on an AMX Xeon, a remembered abort) would change the choice.
    const { stdout, code } = await doctor(['--model', model], { NODE_HOST_CACHE_DIR: mkdtempSync(join(tmpdir(), 'moe-variant-cache-')) })
    expect(code).toBe(0)
    expect(stdout).toMatch(new RegExp(`^CPU +${cpu.modelName.replace(/[()]/g, '.')}: ${cpu.physicalCores} physical core`, 'm'))
    expect(stdout).toMatch(new RegExp(`^features +AVX2 (yes|no), AVX-512 (yes|no),.* AMX ${hasAmx ? 'yes' : 'no'}$`, 'm'))
    expect(stdout).toMatch(/^model +.*: deepseek2, Q8_0 weights$/m)
    expect(stdout).toMatch(/known issue sapphirerapids: context creation aborts/)
    expect(stdout).toMatch(new RegExp(`^chosen +${ranked[0]} \\(--cpu-variant auto\\)`, 'm'))
    const moe = await doctor(['--model', await ensureTestModel({ layout: 'llama-moe', quant: 'q8_0' })])
    expect(moe.stdout).not.toContain('known issue')
  })
})
