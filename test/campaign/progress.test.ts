import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  chooseProgressMode,
  colorAllowed,
  createProgress,
  formatExperimentLine,
} from "../../campaign/progress.ts";

const live = {
  elapsedMs: 6000,
  completed: 120,
  failed: 2,
  reqPerS: 24.04,
  tokPerS: 1538.4,
  ttftP50Ms: 12.6,
  inWarmup: false,
};

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
    p.start(2);
    p.experimentStart("g1-tp1-r1", 6000);
    p.experimentUpdate(live);
    p.experimentEnd("g1-tp1-r1", { status: "ok", reason: null, wallMs: 6100, last: live });
    p.experimentEnd("g2-tp2-r1", {
      status: "failed",
      reason: "server exited with code 1\nlog…",
      wallMs: 1200,
      last: live,
    });
    p.stop();
    expect(sink.text().split("\n")).toEqual([
      "[1/2] g1-tp1-r1  ok  6.1 s  24.0 req/s  1538 tok/s  TTFT p50 13 ms  errors 2",
      "[2/2] g2-tp2-r1  failed  1.2 s  server exited with code 1",
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
