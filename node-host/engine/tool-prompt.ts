/**
 * Tells the model which functions it may call, for chat templates that do not render `tools`
 * themselves (DeepSeek-V3's and R1's published templates do not: the hosted API adds the description).
 * It goes at the end of the system prompt, as a JSON list, with the call format in words; the grammar
 * (tool-grammar.ts) enforces the format whatever the model makes of the words.
 */
import type { ToolChoice, ToolSpec } from '../types.js'

export function toolsSystemText(tools: readonly ToolSpec[], choice: ToolChoice): string {
  const listed = tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.parameters }))
  const must =
    choice.type === 'required' ? 'You must call at least one of them.' : choice.type === 'function' ? `You must call ${choice.name}.` : 'Call one only when it helps; otherwise answer in text.'
  return [
    '## Tools',
    '',
    `You can call these functions. ${must} To call one, write the tool-call tokens with the function's name and its arguments as a JSON object that matches its parameters schema.`,
    '',
    JSON.stringify(listed, null, 2),
  ].join('\n')
}
