import { describe, expect, it } from "vitest";
import { formatDurationMs, parseDurationMs } from "../../config/duration.ts";
import { closest } from "../../config/suggest.ts";

describe("durations", () => {
  it.each([
    ["30s", 30_000],
    ["3m", 180_000],
    ["1m30s", 90_000],
    ["500ms", 500],
    ["1h", 3_600_000],
    ["0.5s", 500],
  ])("%s = %d ms", (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(["30", "", "3 minutes", "-5s", "s", "1x"])("refuses %j", (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  it("formats back to the shortest readable form", () => {
    expect(formatDurationMs(90_000)).toBe("1m30s");
    expect(formatDurationMs(500)).toBe("500ms");
    expect(formatDurationMs(3_600_000)).toBe("1h");
    expect(formatDurationMs(0)).toBe("0ms");
  });
});

describe("did you mean", () => {
  it("suggests close names and nothing for unrelated ones", () => {
    expect(closest("user", ["users", "rate", "duration"])).toBe("users");
    expect(closest("max_num_seq", ["max_num_seqs", "max_tokens"])).toBe("max_num_seqs");
    expect(closest("zzzzzz", ["users", "rate"])).toBeUndefined();
  });
});
