/**
 * ShareGPT files: JSON parsed at full speed with JSON.parse, and only when an
 * entry is malformed parsed again with positions (the `yaml` library reads
 * JSON as YAML 1.2 and keeps ranges), so the one error line names line:column.
 */
import { LineCounter, type Node, parseDocument } from "yaml";
import { DataError } from "../../common/errors.ts";
import { parseShareGpt } from "../workload/datasets.ts";
import type { CountTokens, PreparedPromptSet, Prompt } from "../workload/prompts.ts";

function positionOf(text: string, path: (string | number)[]): { line?: number; column?: number } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as Node | undefined;
    if (node?.range) {
      const pos = lines.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}

/** JSON.parse's own position ("at position 12" or "(line 3 column 5)") as line:column. */
function syntaxPosition(text: string, message: string): { line?: number; column?: number } {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
  const at = /position (\d+)/.exec(message);
  if (!at) return {};
  const before = text.slice(0, Number(at[1]));
  const line = before.split("\n").length;
  return { line, column: before.length - before.lastIndexOf("\n") };
}

const fieldOf = (name: string, path: (string | number)[]) =>
  `prompts.${name}.file${path.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("")}`;

export function parseShareGptText(name: string, text: string, shown: string): Prompt[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DataError("is not valid JSON; expected a ShareGPT array of conversations", {
      file: shown,
      field: `prompts.${name}.file`,
      ...syntaxPosition(text, message),
    });
  }
  const parsed = parseShareGpt(value);
  if (parsed.ok) return parsed.prompts;
  throw new DataError(parsed.message, {
    file: shown,
    field: fieldOf(name, parsed.path),
    ...positionOf(text, parsed.path),
  });
}

/**
 * Reply lengths counted by the server's tokenizer, replacing the
 * characters-per-token estimate, as vLLM's ShareGPT loader tokenizes the reply.
 */
export async function countReplyTokens(
  set: PreparedPromptSet,
  countTokens: CountTokens,
): Promise<PreparedPromptSet> {
  const prompts = await Promise.all(
    set.prompts.map(async (p) => {
      const reply = p.conversation?.[1];
      if (reply === undefined) return p;
      return { ...p, outputTokens: Math.max(1, await countTokens(reply.content)) };
    }),
  );
  return { ...set, prompts };
}
