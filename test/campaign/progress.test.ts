import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  chooseProgressMode,
  colorAllowed,
  createProgress,
  formatExperimentLine,
} from "../../campaign/progress.ts";
import { RequestRecordSchema } from "../../formats/request-record.ts";
import { windowFigures } from "../../stats/request-window.ts";
import { syntheticRequest } from "../aggregate/synthetic-campaign.ts";

const live = {
  elapsedMs: 6000,
  completed: 120,
  failed: 2,
  reqPerS: 24.04,
  tokPerS: 1538.4,
  ttftP50Ms: 12.6,
  inWarmup: false,
};

/** A 5 s window's figures: `count` requests sent 40 ms apart, 600 ms each, and two failures. */
function figures(count: number) {
  const ok = Array.from({ length: count }, (_, i) =>
    syntheticRequest({
      start_us: i * 40_000,
      end_us: i * 40_000 + 600_000,
      ttft_ms: 12.6,
      e2e_ms: 600,
      output_tokens: 10,
    }),
  );
  const failed = [1, 2].map(() =>
    syntheticRequest({ start_us: 0, end_us: 100_000, ok: false, error_kind: "http_5xx" }),
  );
  return windowFigures(
    [...ok, ...failed].map((r) => RequestRecordSchema.parse(r)),
    { startUs: 0, endUs: 5_000_000 },
  );
}

function collect() {
  const out = new PassThrough();
  let text = "";
  out.on("data", (c: Buffer) => {
    text += c.toString();
  });
  return { out, text: () => text };
}

describe("progress", () => {
  it("prints one plain line per experiment off a TTY", () => {
    const sink = collect();
    const p = createProgress({ mode: "plain", color: false, out: sink.out });
    p.start(3);
    p.experimentStart("g1-tp1-r1", 6000);
    p.experimentUpdate(live);
    p.experimentEnd("g1-tp1-r1", {
      status: "ok",
      reason: null,
      wallMs: 6100,
      last: live,
      window: figures(120),
    });
    p.experimentEnd("g1-tp1-r2", {
      status: "ok",
      reason: null,
      wallMs: 6100,
      last: live,
      window: figures(4),
    });
    p.experimentEnd("g2-tp2-r1", {
      status: "failed",
      reason: "server exited with code 1\nlog…",
      wallMs: 1200,
      last: live,
    });
    p.stop();
    // The window's figures, as the summary computes them (not the live counters'):
    // 110 of the 120 requests ended inside the 5 s, all 120 were sent in it.
    expect(sink.text().split("\n")).toEqual([
      "[1/3] g1-tp1-r1  ok  6.1 s  22.0 req/s  220 tok/s  TTFT p50 13 ms (n 120)  E2E p50 600 p90 600 ms (n 120)  errors 2",
      "[2/3] g1-tp1-r2  ok  6.1 s  0.8 req/s  8 tok/s  TTFT p50 - ms (n 4: 4 requests < 20)  E2E p50 - p90 - ms (n 4: 4 requests < 20)  errors 2",
      "[3/3] g2-tp2-r1  failed  1.2 s  server exited with code 1",
      "",
    ]);
  });

  it("prints nothing per experiment when quiet", () => {
    const sink = collect();
    const p = createProgress({ mode: "quiet", color: false, out: sink.out });
    p.start(1);
    p.note("starting server");
    p.experimentEnd("x", { status: "ok", reason: null, wallMs: 1, last: null });
    expect(sink.text()).toBe("");
  });

  it("colours status words only on a TTY without NO_COLOR", () => {
    expect(colorAllowed(true, {})).toBe(true);
    expect(colorAllowed(true, { NO_COLOR: "1" })).toBe(false);
    expect(colorAllowed(false, {})).toBe(false);
    const line = formatExperimentLine(
      1,
      1,
      "x",
      { status: "ok", reason: null, wallMs: 0, last: null },
      true,
    );
    expect(line).toContain("\u001b[32mok\u001b[0m");
    expect(chooseProgressMode({ quiet: true, isTTY: true })).toBe("quiet");
    expect(chooseProgressMode({ isTTY: true })).toBe("tty");
    expect(chooseProgressMode({ isTTY: false })).toBe("plain");
  });
});
