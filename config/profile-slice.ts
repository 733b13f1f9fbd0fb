/**
 * `load.profile: {at, for}`: the slice of each experiment's window during which
 * the server's torch profiler runs (campaign/profile-capture.ts). It must end
 * inside the window, or the trace would mix in drain and idle time.
 */
import type { MatrixFile } from "./matrix-file.ts";
import type { Fail } from "./problem.ts";

/** Exact, unlike formatDurationMs's rounding: 2500 ms → 2.5 s. */
const seconds = (ms: number) => `${ms / 1000} s`;

export function checkProfileSlice(file: MatrixFile, fail: Fail): void {
  const { profile, duration } = file.matrix.load;
  if (!profile || profile.at + profile.for <= duration) return;
  fail({
    message: `the profile slice ends at ${seconds(profile.at + profile.for)}, after the ${seconds(duration)} window`,
    path: ["load", "profile", "for"],
    hint: "make at + for at most load.duration",
  });
}
