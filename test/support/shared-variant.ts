/**
 * For a test file that loads several models into its own process: the llama.cpp CPU variant proven
 * to run all of them on this CPU (on an AMX Xeon, not sapphirerapids when a deepseek2 Q8_0 is among
 * them), set as NODE_HOST_CPU_VARIANT before any engine starts, so no later model meets a binding
 * that aborts on it. Production serves one model per process and never needs this.
 */
import { chooseSharedCpuVariant, type VariantChoice } from '../../node-host/cpu/choose-variant.js'
import { silentLogger } from '../../node-host/log.js'

export async function useVariantForModels(paths: string[], settings = { sequences: 2, contextSize: 1024, threads: 1 }): Promise<VariantChoice> {
  const choice = await chooseSharedCpuVariant({ ...settings, models: paths.map((path) => ({ path, name: path })), log: silentLogger })
  process.env.NODE_HOST_CPU_VARIANT = choice.variant
  return choice
}
