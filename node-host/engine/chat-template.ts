/**
 * Renders a GGUF's own chat template (tokenizer.chat_template, Jinja) for OpenAI-shaped messages, as
 * Hugging Face's apply_chat_template and llama-server --jinja do: messages as given (tool calls, tool
 * results, reasoning), bos/eos tokens, add_generation_prompt, tools, and the thinking switches newer
 * DeepSeek templates read (`thinking`, `enable_thinking`). Templates that ignore a variable ignore it.
 */
import { Template } from '@huggingface/jinja'

export interface TemplateToolCall {
  id: string
  type: 'function'
  function: { name: string; arguments: string }
}

export interface TemplateMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool'
  content: string | null
  tool_calls?: TemplateToolCall[]
  tool_call_id?: string
  reasoning_content?: string
}

export interface TemplateTool {
  type: 'function'
  function: { name: string; description?: string; parameters?: Record<string, unknown> }
}

export interface RenderOptions {
  bosToken: string
  eosToken: string
  addGenerationPrompt: boolean
  tools?: TemplateTool[]
  /** undefined: the template's own default. */
  thinking?: boolean
}

export interface ChatTemplate {
  source: string
  /** Whether the template itself renders `tools` (else node-host describes them, see tool-prompt.ts). */
  rendersTools: boolean
  render(messages: readonly TemplateMessage[], opts: RenderOptions): string
}

export function compileChatTemplate(source: string): ChatTemplate {
  const template = new Template(source)
  return {
    source,
    rendersTools: /\btools\b/.test(source),
    render(messages, opts) {
      return template.render({
        // Templates index message fields directly; absent fields must read as undefined, not throw.
        messages: messages.map((m) => ({ ...m })),
        bos_token: opts.bosToken,
        eos_token: opts.eosToken,
        add_generation_prompt: opts.addGenerationPrompt,
        ...(opts.tools && opts.tools.length > 0 ? { tools: opts.tools } : {}),
        ...(opts.thinking === undefined ? {} : { thinking: opts.thinking, enable_thinking: opts.thinking }),
      })
    },
  }
}
