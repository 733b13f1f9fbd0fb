import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveGroupEnv, startGroupServer } from "../../campaign/group-server.ts";
import { groupAlive } from "../../campaign/process-group.ts";
import { ConfigError, ServerError } from "../../common/errors.ts";
import { readServerRecord, serverFiles } from "../../formats/server-record.ts";
import { pidAlive, tempDir, tinyGroup } from "./helpers.ts";

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir("gs");
});
afterEach(async () => {
  await dir.remove();
});

describe("startGroupServer", () => {
  it("starts on a free port, records pid, port and masked argv, and stops the group", async () => {
    const group = tinyGroup(["--note", "{api_key}"]);
    const server = await startGroupServer(group, {
      campaignDir: dir.path,
      apiKey: "sk-secret-123",
    });
    expect(server.version).toBe("0.0-tiny");
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const files = serverFiles(dir.path, group.id);
    const running = await readServerRecord(files.json);
    expect(running?.starts).toHaveLength(1);
    const start = running?.starts[0];
    expect(start?.pid).toBe(server.pid);
    expect(start?.port).toBe(server.port);
    expect(start?.argv).toContain("***");
    expect(start?.healthy_at).not.toBeNull();
    expect(await readFile(files.json, "utf8")).not.toContain("sk-secret-123");
    expect(pidAlive(server.pid as number)).toBe(true);

    await server.stop("done");
    expect(groupAlive(server.pid as number)).toBe(false);
    const stopped = await readServerRecord(files.json);
    expect(stopped?.starts[0]?.exit_code).toBe(0);
    expect(stopped?.starts[0]?.reason).toBe("done");
    expect(stopped?.starts[0]?.stopped_at).not.toBeNull();
  });

  it("fails at once, with the log's last lines, when the server exits before it is healthy", async () => {
    const group = tinyGroup(["--startup-delay-ms", "60000", "--exit-after-ms", "200"]);
    const error = await startGroupServer(group, { campaignDir: dir.path }).catch((e) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toMatch(/exited with code 3 before it became healthy/);
    expect(error.message).toContain("crashing on purpose");
    const record = await readServerRecord(serverFiles(dir.path, group.id).json);
    expect(record?.starts[0]?.exit_code).toBe(3);
    expect(record?.starts[0]?.reason).toBe("unhealthy");
  });

  it("gives up after health_timeout on a server that never becomes healthy, and stops it", async () => {
    const group = tinyGroup(["--unhealthy"], { healthTimeoutMs: 1_500 });
    const error = await startGroupServer(group, { campaignDir: dir.path }).catch((e) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toMatch(/not healthy within 2 s \(\/health answered 503\)/);
    const record = await readServerRecord(serverFiles(dir.path, group.id).json);
    const pid = record?.starts[0]?.pid as number;
    expect(groupAlive(pid)).toBe(false);
  });

  it("refuses a server that serves another model", async () => {
    const group = tinyGroup(["--model", "other-model"]);
    await expect(startGroupServer(group, { campaignDir: dir.path })).rejects.toThrow(
      /serves other-model/,
    );
  });

  it("copies $NAME env values from the runner, and names a missing one", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the matrix's own ${NAME} syntax
    const group = tinyGroup([], { env: { HF_TOKEN: "${MY_TOKEN}", PLAIN: "1" } });
    expect(resolveGroupEnv(group, { MY_TOKEN: "t" })).toEqual({ HF_TOKEN: "t", PLAIN: "1" });
    expect(() => resolveGroupEnv(group, {})).toThrow(ConfigError);
    expect(() => resolveGroupEnv(group, {})).toThrow(/MY_TOKEN is not set/);
  });

  it("appends each start to the same record", async () => {
    const group = tinyGroup();
    for (let i = 0; i < 2; i++) {
      const server = await startGroupServer(group, { campaignDir: dir.path });
      await server.stop(`stop ${i}`);
    }
    const record = await readServerRecord(join(dir.path, "_servers", `${group.id}.json`));
    expect(record?.starts.map((s) => s.reason)).toEqual(["stop 0", "stop 1"]);
  });
});
