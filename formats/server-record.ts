/**
 * `_servers/<group>.json`: every start of a server group's process (pid,
 * port, masked argv, times, how it ended), so users and tests can check that
 * nothing outlived the campaign. The log beside it is `_servers/<group>.log`.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { writeJsonAtomic } from "../common/atomic-write.ts";
import { SERVERS_DIR } from "./raw-layout.ts";

export const ServerStartSchema = z.strictObject({
  /** Also the process group id; null for `kind: external`. */
  pid: z.number().int().nullable(),
  port: z.number().int().nullable(),
  url: z.string(),
  /** Secrets replaced by `***`. */
  argv: z.array(z.string()),
  /** Names only: values may be secret. */
  env_names: z.array(z.string()),
  started_at: z.string(),
  healthy_at: z.string().nullable(),
  stopped_at: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  exit_signal: z.string().nullable(),
  /** Why it stopped: `done`, `crashed`, `unhealthy`, `interrupted`, `reaped …`, … */
  reason: z.string().nullable(),
  /**
   * The server's start time (/proc/<pid>/stat field 22, ticks since boot), so a later
   * run can tell this process from another that reused its pid; null without /proc.
   */
  start_ticks: z.number().int().nullable().optional(),
  /** The campaign process that started it, and its start time: a live runner's servers are left alone. */
  runner_pid: z.number().int().optional(),
  runner_start_ticks: z.number().int().nullable().optional(),
});
export type ServerStart = z.infer<typeof ServerStartSchema>;

export const ServerRecordSchema = z.strictObject({
  group_id: z.string(),
  kind: z.enum(["sim", "vllm", "external"]),
  starts: z.array(ServerStartSchema),
});
export type ServerRecord = z.infer<typeof ServerRecordSchema>;

export function serverFiles(campaignDir: string, groupId: string): { json: string; log: string } {
  const dir = join(campaignDir, SERVERS_DIR);
  return { json: join(dir, `${groupId}.json`), log: join(dir, `${groupId}.log`) };
}

export async function readServerRecord(file: string): Promise<ServerRecord | undefined> {
  try {
    return ServerRecordSchema.parse(JSON.parse(await readFile(file, "utf8")));
  } catch {
    return undefined;
  }
}

/** Appends a start (or updates the last one) and rewrites the file atomically. */
export class ServerRecordWriter {
  private constructor(
    private readonly file: string,
    private readonly record: ServerRecord,
  ) {}

  static async open(file: string, groupId: string, kind: ServerRecord["kind"]) {
    const previous = await readServerRecord(file);
    return new ServerRecordWriter(file, previous ?? { group_id: groupId, kind, starts: [] });
  }

  async add(start: ServerStart): Promise<void> {
    this.record.starts.push(start);
    await writeJsonAtomic(this.file, this.record);
  }

  async updateLast(patch: Partial<ServerStart>): Promise<void> {
    await this.update(this.record.starts.length - 1, patch);
  }

  get starts(): readonly ServerStart[] {
    return this.record.starts;
  }

  async update(index: number, patch: Partial<ServerStart>): Promise<void> {
    const start = this.record.starts[index];
    if (start) Object.assign(start, patch);
    await writeJsonAtomic(this.file, this.record);
  }
}
