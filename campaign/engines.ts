/** The load engines behind one call: the Node engine in-process, or k6 as a child process. */
import { ConfigError } from "../common/errors.ts";
import { hasSseExtension, k6Version, runK6Load } from "../load/k6/runner.ts";
import type { LoadResult } from "../load/node/run.ts";
import { type MultiLoadOptions, runLoad } from "../load/node/workers.ts";
import { scenarioOf } from "../load/workload/scenarios.ts";

export type EngineName = "node" | "k6";

export async function runLoadEngine(
  engine: EngineName,
  options: MultiLoadOptions & { summaryFile: string; k6Sse?: boolean },
): Promise<LoadResult> {
  const { summaryFile, k6Sse, ...nodeOptions } = options;
  // prefill-only needs only E2E, and its waves need k6/http's `http.batch` (load/k6/chat.ts).
  const waves = scenarioOf(nodeOptions.schedule) === "prefill-only";
  if (engine === "k6")
    return runK6Load({
      ...nodeOptions,
      summaryFile,
      scenario: k6Sse && !waves ? "chat-sse" : "chat",
    });
  return runLoad(nodeOptions);
}

/**
 * Refuse a k6 campaign up front, before any server starts, when k6 is not
 * installed, or when `load.k6_sse` asks for streaming and the k6 binary was
 * built without xk6-sse (`k6 version` lists a build's extensions).
 */
export async function assertEnginesAvailable(
  loads: Iterable<{ engine: EngineName; k6_sse: boolean }>,
  file: string,
  binary = "k6",
) {
  const k6 = [...loads].filter((l) => l.engine === "k6");
  if (k6.length === 0) return;
  const version = await k6Version(binary);
  if (version === null) {
    throw new ConfigError("load.engine is k6, but k6 is not on PATH", {
      file,
      field: "load.engine",
      hint: "install k6 v1 (https://grafana.com/docs/k6/latest/set-up/install-k6/) or use engine: node",
    });
  }
  if (k6.some((l) => l.k6_sse) && !hasSseExtension(version)) {
    throw new ConfigError("load.k6_sse is true, but this k6 has no SSE extension (k6/x/sse)", {
      file,
      field: "load.k6_sse",
      hint: "build one: `go install go.k6.io/xk6/cmd/xk6@latest && xk6 build --with github.com/phymbert/xk6-sse`, put that k6 on PATH; or set k6_sse: false (E2E only)",
    });
  }
}
