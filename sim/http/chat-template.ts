/**
 * The simulator's chat template: a plain role-tagged rendering. Chat prompt
 * token counts (usage and /tokenize with `messages`) both come from it, so
 * they always agree.
 */
import type { ChatMessage } from "./request-schema.ts";

export function messageText(content: ChatMessage["content"]): string {
  if (content === null || content === undefined) return "";
  if (typeof content === "string") return content;
  return content.map((part) => (part.type === "text" ? (part.text ?? "") : "")).join("");
}

export function renderChat(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
  let text = "";
  for (const message of messages) text += `<|${message.role}|>\n${messageText(message.content)}\n`;
  if (addGenerationPrompt) text += "<|assistant|>\n";
  return text;
}
