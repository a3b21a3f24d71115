// Built-in English-ish text the tiny BPE vocabulary is trained on. Content is irrelevant
// beyond giving common English words and code-ish fragments their own merged tokens.
export const BPE_TRAINING_CORPUS = `
The quick brown fox jumps over the lazy dog. A gateway sends each request to the model and returns the answer.
Hello, world! How are you today? I am fine, thank you. What is the time? It is ten past three in the afternoon.
The model reads the prompt, thinks about the question, and then writes a short answer for the user.
We measure tokens per second, memory bandwidth, and the cost of every request in the database.
Experts are small feed forward networks; the router picks two of them for every token in the sequence.
This is a test of the tokenizer. These tokens should be short and common: the, and, of, to, in, is, it, that, for, with, as, on, be, at, by, this, have, from, or, one, had, not, but, what, all, were, when, we, there, can, an, your, which, their, said, if, do, will, each, about, how, up, out, them, then, she, many, some, so, these, would, other, into, has, more, her, two, like, him, see, time, could, no, make, than, first, been, its, who, now, people, my, made, over, did, down, only, way, find, use, may, water, long, little, very, after, words, called, just, where, most, know.
function main() { const value = request.body.messages[0].content; return { status: 200, text: value }; }
import { serve } from "server"; export async function handler(input: string): Promise<string> { return input.trim() }
Numbers like 1, 2, 3, 10, 42, 100, 2024 and 3.14 appear in text. Lists: first, second, third; yes or no.
The system prompt says: you are a helpful assistant. The user asks a question and the assistant answers it.
Please summarize the following paragraph in one sentence. Translate this sentence into French. Write a poem.
Streaming responses arrive as server sent events, one chunk at a time, until the final usage report.
`
