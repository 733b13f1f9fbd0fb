/**
 * The server a group starts: the argv template (the matrix's `command` +
 * `args`, or the simulator's default with one vLLM flag per server factor),
 * filled with factors and built-ins, and the environment it gets.
 */

import type { Experiment, ServerGroup } from "./experiment.ts";
import { FACTOR_NAMES, type FactorName, SERVER_FLAGS } from "./factors.ts";
import { fillTemplate, flagOnlyName, placeholdersIn } from "./placeholders.ts";
import type { Fail, PathKey } from "./problem.ts";
import type { Matrix } from "./schema.ts";

/** Placeholders every command may use besides factors. */
export const BUILTINS = ["model", "host", "port", "seed", "gpus", "tp", "dp", "api_key"] as const;

/** Does the factor reach the server as a flag (gpus reaches it as tp × dp instead)? */
export function hasServerFlag(name: FactorName): boolean {
  return name in SERVER_FLAGS;
}

/** `kind`, `url` and `command` must agree. */
export function checkServerSection(m: Matrix, fail: Fail): void {
  const s = m.server;
  if (s.kind === "external" && !s.url)
    fail({ message: "`kind: external` needs the server's url", path: ["server"] });
  if (s.kind !== "external" && s.url) {
    fail({
      message: "`url` is only for `kind: external`; started servers listen on host and port",
      path: ["server", "url"],
    });
  }
  if (s.kind === "external" && s.command) {
    fail({
      message: "`kind: external` starts nothing, so it takes no command",
      path: ["server", "command"],
    });
  }
  if (s.kind === "vllm" && !s.command) {
    fail({
      message: '`kind: vllm` needs a command, e.g. [vllm, serve, "{model}", ...]',
      path: ["server"],
    });
  }
}

function commandTemplate(
  m: Matrix,
  f: Experiment["factors"],
): { template: string[]; fromFile: boolean } {
  const s = m.server;
  if (s.command) return { template: [...s.command, ...s.args], fromFile: true };
  if (s.kind === "external") return { template: [], fromFile: false };
  // The simulator's default command: vLLM's flags, one per server factor assigned.
  const template = ["vscale", "sim", "serve", "{model}", "--host", "{host}", "--port", "{port}"];
  template.push("--seed", "{seed}");
  for (const name of FACTOR_NAMES) {
    const flag = SERVER_FLAGS[name];
    if (!flag || f[name] === undefined) continue;
    if (typeof f[name] === "boolean") template.push(`{${name}:flag}`);
    else template.push(flag, `{${name}}`);
  }
  // No --api-key here: the runner passes the key as VLLM_API_KEY, which `ps` does not show.
  return { template: [...template, ...s.args], fromFile: false };
}

/**
 * argv and env of the server one experiment needs. `where` is the path of the
 * factors (or include rule) the experiment came from, for errors about factors.
 */
export function resolveServer(
  m: Matrix,
  f: Experiment["factors"],
  factorOrder: readonly FactorName[],
  where: PathKey[],
  fail: Fail,
): { argv: string[]; env: Record<string, string> } {
  const s = m.server;
  const { template, fromFile } = commandTemplate(m, f);
  const commandLength = s.command?.length ?? 0;
  const at = (index: number): PathKey[] =>
    !fromFile
      ? ["server", "args"]
      : index < commandLength
        ? ["server", "command", index]
        : ["server", "args", index - commandLength];
  const values: Record<string, string | number | boolean | undefined> = {
    ...f,
    model: s.model,
    host: s.host,
    port: s.port === "auto" ? "{port}" : s.port,
    seed: m.seed,
    api_key: "{api_key}",
  };
  const { argv, missing } = fillTemplate(template, values);
  const first = missing[0];
  if (first) {
    const known = [...new Set([...BUILTINS, ...factorOrder])];
    fail({
      message: `placeholder {${first.name}} has no factor or built-in value`,
      path: at(first.index),
      hint: `known here: ${known.join(", ")}`,
    });
  }
  template.forEach((element, index) => {
    const name = flagOnlyName(element);
    if (name === undefined || typeof values[name] === "boolean") return;
    // `{x:flag}` of a number used to become `--no-x` without a word.
    const flag = SERVER_FLAGS[name as FactorName] ?? `--${name.replaceAll("_", "-")}`;
    fail({
      message: `{${name}:flag} needs a boolean (true/false) factor, but ${name} is ${JSON.stringify(values[name])}`,
      path: at(index),
      hint: `write "${flag}", "{${name}}" to pass its value`,
    });
  });
  if (fromFile) {
    const used = new Set(template.flatMap(placeholdersIn));
    for (const name of Object.keys(f) as FactorName[]) {
      if (!hasServerFlag(name) || used.has(name)) continue;
      if (name === "tp" || name === "dp") continue; // derived from gpus unless the user wrote them
      fail({
        message: `factor ${name} varies but server.command never passes it`,
        path: [...where, name],
        hint: `add "${SERVER_FLAGS[name]}", "{${name}}" to server.command`,
      });
    }
  }
  if (s.kind === "external") {
    for (const name of Object.keys(f) as FactorName[]) {
      if (hasServerFlag(name) && name !== "tp" && name !== "dp") {
        fail({
          message: `factor ${name} configures a server, but kind: external starts none`,
          path: [...where, name],
        });
      }
    }
  }
  const env = { ...s.env };
  if (s.kind === "vllm" && env.CUDA_VISIBLE_DEVICES === undefined) {
    env.CUDA_VISIBLE_DEVICES = Array.from({ length: f.gpus }, (_, i) => i).join(",");
  }
  return { argv, env };
}

/**
 * The argv a server group really starts with: fills the run-time placeholders
 * (`{port}` when auto, `{api_key}` from the environment). The masked form
 * (for logs and experiment.json) replaces the key with `***`.
 */
export function runtimeArgv(
  group: ServerGroup,
  values: { port: number; apiKey?: string },
): { argv: string[]; masked: string[] } {
  const fill = (apiKey: string | undefined) =>
    group.argv.map((a) =>
      a.replaceAll("{port}", String(values.port)).replaceAll("{api_key}", apiKey ?? ""),
    );
  return {
    argv: fill(values.apiKey),
    masked: fill(values.apiKey === undefined ? undefined : "***"),
  };
}
