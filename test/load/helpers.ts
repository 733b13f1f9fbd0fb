/** Shared set-up for the load tests: run options, reading records back, a temp dir. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RequestRecord, RequestRecordSchema } from "../../formats/request-record.ts";
import type { LoadRunOptions } from "../../load/node/run.ts";
import type { PreparedPromptSet } from "../../load/workload/prompts.ts";

export const ONE_PROMPT: PreparedPromptSet = {
  name: "tiny",
  source: "file",
  prompts: [{ id: "L1", text: "Say hello.", messages: null, tokens: null }],
  tokensEstimated: false,
};

/** Eight distinct prompts, so a prompt choice that differs shows. */
export const LETTER_PROMPTS: PreparedPromptSet = {
  name: "letters",
  source: "file",
  prompts: "abcdefgh".split("").map((t, i) => ({
    id: `L${i + 1}`,
    text: `prompt ${t}`,
    messages: null,
    tokens: null,
  })),
  tokensEstimated: false,
};

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "vscale-load-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function runOptions(
  url: string,
  outFile: string,
  overrides: Partial<LoadRunOptions> = {},
): LoadRunOptions {
  return {
    url,
    model: "planted-model",
    api: "chat",
    experimentId: "exp-1",
    promptSet: ONE_PROMPT,
    schedule: { mode: "closed", users: 1, thinkTimeMs: 0 },
    warmupMs: 0,
    durationMs: 500,
    maxTokens: 4,
    stream: true,
    ignoreEos: true,
    temperature: 0,
    timeoutMs: 5_000,
    seed: 1,
    drain: false,
    outFile,
    ...overrides,
  };
}

/** Every line parsed and validated against the record schema. */
export async function readRecords(file: string): Promise<RequestRecord[]> {
  const text = await readFile(file, "utf8");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => RequestRecordSchema.parse(JSON.parse(l)));
}
