/** The load engines behind one call: the Node engine in-process, or k6 as a child process. */
import { ConfigError } from "../common/errors.ts";
import { hasK6, runK6Load } from "../load/k6/runner.ts";
import type { LoadResult } from "../load/node/run.ts";
import { type MultiLoadOptions, runLoad } from "../load/node/workers.ts";

export type EngineName = "node" | "k6";

export async function runLoadEngine(
  engine: EngineName,
  options: MultiLoadOptions & { summaryFile: string; k6Sse?: boolean },
): Promise<LoadResult> {
  const { summaryFile, k6Sse, ...nodeOptions } = options;
  if (engine === "k6")
    return runK6Load({ ...nodeOptions, summaryFile, scenario: k6Sse ? "chat-sse" : "chat" });
  return runLoad(nodeOptions);
}

/** Refuse a k6 campaign up front, before any server starts, when k6 is not installed. */
export async function assertEnginesAvailable(engines: Iterable<EngineName>, file: string) {
  if (new Set(engines).has("k6") && !(await hasK6())) {
    throw new ConfigError("load.engine is k6, but k6 is not on PATH", {
      file,
      field: "load.engine",
      hint: "install k6 v1 (https://grafana.com/docs/k6/latest/set-up/install-k6/) or use engine: node",
    });
  }
}
