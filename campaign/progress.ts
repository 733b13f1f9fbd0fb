/**
 * Campaign progress. On a TTY: a campaign bar (experiments done/total, ETA)
 * and a live line for the running experiment, drawn by cli-progress on
 * stderr. Elsewhere (CI, pipes): one plain line per experiment on stdout.
 * `quiet` prints only what the caller prints itself; colour only on a TTY
 * and never with NO_COLOR.
 */
import type { Writable } from "node:stream";
import cliProgress from "cli-progress";
import { formatWindowPhrase } from "../load/summary.ts";
import type { WindowFigures } from "../stats/request-window.ts";

/** What the load engines report ~4×/s (a subset of their LiveCounters). */
export interface LiveLine {
  elapsedMs: number;
  completed: number;
  failed: number;
  reqPerS: number;
  tokPerS: number;
  ttftP50Ms: number | null;
  inWarmup: boolean;
}

export interface ExperimentOutcome {
  status: "ok" | "failed" | "interrupted";
  reason: string | null;
  wallMs: number;
  last: LiveLine | null;
  /** The window's figures (the summary's computation); null when there are none to show. */
  window?: WindowFigures | null;
}

export interface ProgressReporter {
  /** `total` experiments will run in this invocation. */
  start(total: number): void;
  /** A one-off message: a server starting, a group failing. */
  note(line: string): void;
  experimentStart(id: string, plannedMs: number): void;
  experimentUpdate(live: LiveLine): void;
  experimentEnd(id: string, outcome: ExperimentOutcome): void;
  stop(): void;
}

export type ProgressMode = "tty" | "plain" | "quiet";

export function chooseProgressMode(opts: { quiet?: boolean; isTTY?: boolean }): ProgressMode {
  if (opts.quiet) return "quiet";
  return opts.isTTY ? "tty" : "plain";
}

export function colorAllowed(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === "");
}

const STATUS_COLOR = { ok: 32, failed: 31, interrupted: 33 } as const;

function paint(status: ExperimentOutcome["status"], color: boolean): string {
  return color ? `\u001b[${STATUS_COLOR[status]}m${status}\u001b[0m` : status;
}

function fmtNumber(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

/** The live figures as one short phrase, shared by both displays. */
export function formatLive(live: LiveLine | null): string {
  if (!live) return "";
  const ttft = live.ttftP50Ms === null ? "-" : `${fmtNumber(live.ttftP50Ms, 0)} ms`;
  return (
    `${fmtNumber(live.reqPerS)} req/s  ${fmtNumber(live.tokPerS, 0)} tok/s  ` +
    `TTFT p50 ${ttft}  errors ${live.failed}`
  );
}

/**
 * The line printed per experiment: `[3/24] <id>  ok  6.1 s  …` and, for an
 * ok one, its window's figures as `summary.parquet` will hold them (never
 * the live display's, which count a moving phase).
 */
export function formatExperimentLine(
  index: number,
  total: number,
  id: string,
  outcome: ExperimentOutcome,
  color = false,
): string {
  const head = `[${index}/${total}] ${id}  ${paint(outcome.status, color)}  ${fmtNumber(outcome.wallMs / 1000)} s`;
  const tail = outcome.reason ? `  ${outcome.reason.split("\n")[0]}` : "";
  const figures =
    outcome.status === "ok" && outcome.window ? `  ${formatWindowPhrase(outcome.window)}` : "";
  return `${head}${figures}${tail}`;
}

class PlainProgress implements ProgressReporter {
  private total = 0;
  private done = 0;
  constructor(
    private readonly out: Writable,
    private readonly color: boolean,
    private readonly quiet: boolean,
  ) {}
  start(total: number) {
    this.total = total;
  }
  note(line: string) {
    if (!this.quiet) this.out.write(`${line}\n`);
  }
  experimentStart() {}
  experimentUpdate() {}
  experimentEnd(id: string, outcome: ExperimentOutcome) {
    this.done++;
    if (!this.quiet) {
      this.out.write(`${formatExperimentLine(this.done, this.total, id, outcome, this.color)}\n`);
    }
  }
  stop() {}
}

class TtyProgress implements ProgressReporter {
  private readonly multi: cliProgress.MultiBar;
  private campaignBar: cliProgress.SingleBar | undefined;
  private experimentBar: cliProgress.SingleBar | undefined;
  private planned = 1;
  private total = 0;
  private done = 0;

  constructor(
    stream: NodeJS.WriteStream,
    private readonly color: boolean,
  ) {
    this.multi = new cliProgress.MultiBar(
      {
        stream,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        barsize: 24,
        etaBuffer: 8,
        format: "{label} [{bar}] {value}/{total} {suffix}",
      },
      cliProgress.Presets.shades_classic,
    );
  }
  start(total: number) {
    this.total = total;
    this.campaignBar = this.multi.create(
      total,
      0,
      {},
      { format: "campaign [{bar}] {value}/{total} experiments | ETA {eta_formatted}" },
    );
  }
  note(line: string) {
    this.multi.log(`${line}\n`);
  }
  experimentStart(id: string, plannedMs: number) {
    this.planned = Math.max(1, Math.round(plannedMs / 1000));
    this.experimentBar?.stop();
    if (this.experimentBar) this.multi.remove(this.experimentBar);
    this.experimentBar = this.multi.create(this.planned, 0, { label: id, suffix: "s" });
  }
  experimentUpdate(live: LiveLine) {
    const s = Math.min(this.planned, Math.floor(live.elapsedMs / 1000));
    this.experimentBar?.update(s, {
      suffix: `s ${live.inWarmup ? "warm-up " : ""}${formatLive(live)}`,
    });
  }
  experimentEnd(id: string, outcome: ExperimentOutcome) {
    this.done++;
    this.multi.log(`${formatExperimentLine(this.done, this.total, id, outcome, this.color)}\n`);
    this.campaignBar?.update(this.done);
  }
  stop() {
    if (this.experimentBar) this.multi.remove(this.experimentBar);
    this.multi.stop();
  }
}

export function createProgress(options: {
  mode: ProgressMode;
  color: boolean;
  out?: Writable;
  tty?: NodeJS.WriteStream;
}): ProgressReporter {
  if (options.mode === "tty") return new TtyProgress(options.tty ?? process.stderr, options.color);
  return new PlainProgress(options.out ?? process.stdout, options.color, options.mode === "quiet");
}
