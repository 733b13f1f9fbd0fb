/**
 * The first failure in a records file, as one line: what a failed experiment's
 * reason names, so "no request succeeded" comes with the server's own words
 * (a context-length 400, an auth 401) instead of a count alone.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

/** Error messages are cut here: a reason is one line in status.json and the console. */
const MAX_CHARS = 300;

/** `error_message` (or kind and status) of the first failed record that was not cut by the engine; null if none. */
export async function firstFailure(file: string): Promise<string | null> {
  const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      let r: { ok?: unknown; error_kind?: unknown; error_message?: unknown; http_status?: unknown };
      try {
        r = JSON.parse(line);
      } catch {
        continue; // a damaged line: aggregation reports it; the reason needs a readable failure
      }
      if (r.ok !== false || r.error_kind === "cancelled") continue;
      const message =
        typeof r.error_message === "string" && r.error_message !== ""
          ? r.error_message
          : `${String(r.error_kind ?? "failed")}${typeof r.http_status === "number" ? ` (HTTP ${r.http_status})` : ""}`;
      return message.replace(/\s+/g, " ").slice(0, MAX_CHARS);
    }
    return null;
  } catch {
    return null; // no records file: the count alone is all there is
  } finally {
    lines.close();
  }
}
