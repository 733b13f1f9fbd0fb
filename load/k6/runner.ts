/**
 * Node side of the k6 engine: writes the prepared prompts for k6's `open()`,
 * spawns `k6 run` on a scenario with the parameters in its environment (the
 * API key too, never on the command line), and tails k6's console output,
 * turning each record line into `requests.ndjson` as it appears.
 */
import { spawn } from "node:child_process";
import { mkdtemp, open as openFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ServerError } from "../../common/errors.ts";
import { type RequestRecord, RequestRecordSchema } from "../../formats/request-record.ts";
import { nowMs } from "../node/clock.ts";
import { LiveCounterTracker } from "../node/live-counters.ts";
import { NdjsonWriter } from "../node/ndjson-writer.ts";
import { type LoadResult, type LoadRunOptions, validateLoadOptions } from "../node/run.ts";
import { API_KEY_ENV, type K6Params, PARAMS_ENV, START_MARKER } from "./options.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const TAIL_INTERVAL_MS = 250;
/** k6's exit code when thresholds failed: the run itself completed. */
const K6_THRESHOLDS_FAILED = 99;

export interface K6RunOptions extends LoadRunOptions {
  scenario?: "chat" | "chat-sse";
  /** Where k6's handleSummary JSON goes (`k6-summary.json`). */
  summaryFile: string;
  /** The k6 binary (default `k6` on PATH; an xk6 build for `chat-sse`). */
  k6Binary?: string;
  /** Threshold on the share of failed requests (default 0.05). */
  maxErrorRate?: number;
}

/** `k6 version`'s output, or null when there is no working k6. */
export function k6Version(binary = "k6"): Promise<string | null> {
  return new Promise((done) => {
    const child = spawn(binary, ["version"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.on("error", () => done(null));
    child.on("close", (code) => done(code === 0 ? out : null));
  });
}

/** xk6 builds list their extensions under `Extensions:`, by import path (`k6/x/sse`). */
export function hasSseExtension(versionText: string): boolean {
  return /(^|[\s,])k6\/x\/sse\b/m.test(versionText);
}

export function hasK6(binary = "k6"): Promise<boolean> {
  return new Promise((done) => {
    const child = spawn(binary, ["version"], { stdio: "ignore" });
    child.on("error", () => done(false));
    child.on("close", (code) => done(code === 0));
  });
}

export type K6ConsoleLine =
  | { kind: "record"; record: RequestRecord }
  | { kind: "start"; startUs: number }
  | { kind: "invalid"; message: string }
  | { kind: "other" };

/** One line of k6's raw console output. */
export function parseK6ConsoleLine(line: string): K6ConsoleLine {
  const text = line.trim();
  if (!text.startsWith("{")) return { kind: "other" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "other" };
  }
  const marker = (value as Record<string, unknown>)[START_MARKER];
  if (typeof marker === "number") return { kind: "start", startUs: marker };
  const parsed = RequestRecordSchema.safeParse(value);
  if (parsed.success) return { kind: "record", record: parsed.data };
  const issue = parsed.error.issues[0];
  return {
    kind: "invalid",
    message: `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`,
  };
}

/** Reads complete lines appended to a file since the last call. */
class FileTail {
  private offset = 0;
  private partial = "";

  constructor(private readonly path: string) {}

  async readLines(): Promise<string[]> {
    const handle = await openFile(this.path, "r");
    try {
      const chunks: Buffer[] = [];
      for (;;) {
        const buffer = Buffer.alloc(1 << 16);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        chunks.push(buffer.subarray(0, bytesRead));
      }
      const text = this.partial + Buffer.concat(chunks).toString("utf8");
      const lines = text.split("\n");
      this.partial = lines.pop() ?? "";
      return lines;
    } finally {
      await handle.close();
    }
  }

  /** Whatever is left after the writer finished (a last line without newline). */
  rest(): string[] {
    const rest = this.partial;
    this.partial = "";
    return rest === "" ? [] : [rest];
  }
}

/** What k6 is told (`VSCALE_PARAMS`) for a run of these options. */
export function k6Params(opts: K6RunOptions, promptsFile: string): K6Params {
  return {
    url: opts.url,
    model: opts.model,
    api: opts.api,
    experimentId: opts.experimentId,
    promptsFile,
    promptSetName: opts.promptSet.name,
    schedule: opts.schedule,
    warmupMs: opts.warmupMs,
    durationMs: opts.durationMs,
    maxTokens: opts.maxTokens,
    stream: opts.stream,
    ignoreEos: opts.ignoreEos,
    temperature: opts.temperature,
    timeoutMs: opts.timeoutMs,
    seed: opts.seed,
    drain: opts.drain,
    summaryFile: resolve(opts.summaryFile),
    maxErrorRate: opts.maxErrorRate ?? 0.05,
  };
}

export async function runK6Load(opts: K6RunOptions): Promise<LoadResult> {
  validateLoadOptions(opts);
  const work = await mkdtemp(join(tmpdir(), "vscale-k6-"));
  const promptsFile = join(work, "prompts.json");
  const consoleFile = join(work, "console.log");
  await writeFile(promptsFile, JSON.stringify(opts.promptSet));
  await writeFile(consoleFile, "");
  const params = k6Params(opts, promptsFile);
  const script = join(HERE, `${opts.scenario ?? "chat"}.ts`);
  const writer = await NdjsonWriter.open<RequestRecord>(opts.outFile);
  const startMs = nowMs();
  const counters = new LiveCounterTracker(startMs, opts.warmupMs);
  const tail = new FileTail(consoleFile);
  let k6StartUs: number | null = null;
  let invalid = 0;
  let interrupted = false;
  let abortedAtUs: number | null = null;
  let windowEntered = opts.warmupMs === 0;

  const consume = (lines: string[]) => {
    for (const line of lines) {
      const parsed = parseK6ConsoleLine(line);
      if (parsed.kind === "start") k6StartUs ??= parsed.startUs;
      else if (parsed.kind === "invalid") invalid++;
      else if (parsed.kind === "record") {
        writer.write(parsed.record);
        counters.onRecord(parsed.record);
      }
    }
  };

  const env: NodeJS.ProcessEnv = { ...process.env, [PARAMS_ENV]: JSON.stringify(params) };
  if (opts.apiKey) env[API_KEY_ENV] = opts.apiKey;
  else delete env[API_KEY_ENV];
  const redact = (text: string) => (opts.apiKey ? text.split(opts.apiKey).join("***") : text);

  let stderrTail = "";
  const child = spawn(
    opts.k6Binary ?? "k6",
    ["run", "--quiet", "--no-color", "--log-format=raw", `--console-output=${consoleFile}`, script],
    { env, stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr.on("data", (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((done, fail) => {
    child.on("error", fail);
    child.on("close", (code) => done(code));
  });
  const onAbort = () => {
    interrupted = true;
    abortedAtUs = Date.now() * 1000;
    // k6 stops gracefully on SIGINT and still runs handleSummary.
    child.kill("SIGINT");
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  let tailing = Promise.resolve();
  const progress = setInterval(() => {
    tailing = tailing.then(async () => {
      consume(await tail.readLines());
      const now = nowMs();
      if (!windowEntered && now - startMs >= opts.warmupMs) {
        windowEntered = true;
        counters.enterWindow(now);
      }
      opts.onProgress?.(counters.snapshot(now));
    });
  }, TAIL_INTERVAL_MS);

  let code: number | null;
  try {
    code = await exited;
    clearInterval(progress);
    await tailing;
    consume(await tail.readLines());
    consume(tail.rest());
    await writer.close();
  } catch (error) {
    clearInterval(progress);
    if (child.exitCode === null) child.kill("SIGKILL");
    await writer.discard();
    throw new ServerError(
      `cannot run k6: ${error instanceof Error ? error.message : String(error)}`,
      {
        hint: "is k6 v1 on PATH?",
      },
    );
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    await rm(work, { recursive: true, force: true });
  }
  if (code !== 0 && code !== K6_THRESHOLDS_FAILED && !interrupted) {
    throw new ServerError(`k6 exited with code ${code}`, {
      hint: redact(stderrTail.trim().split("\n").slice(-3).join(" | ")),
    });
  }
  if (invalid > 0) {
    process.stderr.write(
      `vscale: ${invalid} k6 console lines looked like records but did not validate\n`,
    );
  }
  const warmupStartUs = k6StartUs ?? Math.round(Date.now() * 1000 - (nowMs() - startMs) * 1000);
  const windowStartUs = warmupStartUs + opts.warmupMs * 1000;
  const plannedEndUs = windowStartUs + opts.durationMs * 1000;
  const windowEndUs = abortedAtUs === null ? plannedEndUs : Math.min(plannedEndUs, abortedAtUs);
  const counts = counters.snapshot(nowMs());
  opts.onProgress?.(counts);
  return {
    warmupStartUs,
    windowStartUs: Math.min(windowStartUs, windowEndUs),
    windowEndUs,
    records: writer.count,
    interrupted,
    counters: counts,
    // k6 runs its own event loops in Go; its lag is not visible from here.
    client: null,
  };
}
