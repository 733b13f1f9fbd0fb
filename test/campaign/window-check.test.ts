import { describe, expect, it } from "vitest";
import { windowFlags } from "../../campaign/window-check.ts";

const load = { warmup: 1_000, duration: 3_000, timeout: 5_000 };
const base = { load, completed: true, scrapedBefore: true, scrapedAfter: true };

describe("windowFlags", () => {
  it("accepts a window that ended within warm-up + duration + a cool-down (timeout + 1 s)", () => {
    expect(windowFlags({ ...base, ranMs: 4_000 + 6_000 })).toEqual([]);
  });

  it("flags a window that overran by more than a cool-down lasts", () => {
    expect(windowFlags({ ...base, ranMs: 4_000 + 6_001 })).toEqual([
      "the window overran its 4.0 s by 6.0 s, more than a cool-down lasts (the request timeout, 5.0 s, + 1.0 s)",
    ]);
  });

  it("flags a missing after-scrape only when the before-scrape worked", () => {
    expect(windowFlags({ ...base, ranMs: 4_000, scrapedAfter: false })).toHaveLength(1);
    expect(
      windowFlags({ ...base, ranMs: 4_000, scrapedBefore: false, scrapedAfter: false }),
    ).toEqual([]);
  });

  it("says nothing about an interrupted or failed load (its status says it)", () => {
    expect(windowFlags({ ...base, ranMs: 60_000, completed: false })).toEqual([]);
  });
});
