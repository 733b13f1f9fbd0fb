/** The load engines behind one call: the Node engine in-process, or k6 as a child process. */
import { ConfigError } from "../common/errors.ts";
import { hasK6, runK6Load } from "../load/k6/runner.ts";
import { type LoadResult, type LoadRunOptions, runNodeLoad } from "../load/node/run.ts";

export type EngineName = "node" | "k6";

export async function runLoadEngine(
  engine: EngineName,
  options: LoadRunOptions & { summaryFile: string },
): Promise<LoadResult> {
  if (engine === "k6") return runK6Load(options);
  const { summaryFile: _summaryFile, ...nodeOptions } = options;
  return runNodeLoad(nodeOptions);
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
