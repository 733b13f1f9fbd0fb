/**
 * What determines an experiment's result, as hashes: the resolved server argv
 * and environment, the model, the load settings, the prompt set's contents,
 * the engine, the seed and vscale's version. Experiment ids are built from
 * factors alone (so edits to durations do not rename results); resume compares
 * this fingerprint, stored in experiment.json, to tell a finished experiment
 * from one whose inputs changed since. Only SHA-256 digests are stored: env
 * values (a `${HF_TOKEN}`, say) never reach a file. The API key is left out
 * altogether: it changes who may ask, not what the server answers.
 */
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { isVscaleError } from "../common/errors.ts";
import type { Experiment, Plan, ServerGroup } from "../config/expand.ts";
import type { Fingerprint } from "../formats/raw-layout.ts";
import { vscaleVersion } from "./paths.ts";
import { hashRegularFile } from "./regular-file.ts";

/** Each part and how a change of it reads in the plan. */
export const FINGERPRINT_PARTS = {
  server_argv: "server args changed",
  server_env: "server env changed",
  model: "model changed",
  load: "load settings changed",
  engine: "engine changed",
  prompts: "prompt set changed",
  seed: "seed changed",
  vscale_version: "vscale version changed",
  server_files: "a file named in the server args changed",
} as const;
export type FingerprintPart = keyof typeof FINGERPRINT_PARTS;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The group's env as the server will get it (`${NAME}` copied from `env`; unset ones marked). */
function resolvedEnv(group: ServerGroup, env: NodeJS.ProcessEnv): [string, string][] {
  return Object.entries(group.env)
    .map(([name, value]): [string, string] => {
      const ref = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value)?.[1];
      return [name, ref === undefined ? value : (env[ref] ?? "\0unset")];
    })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

async function promptDigest(plan: Plan, e: Experiment): Promise<string> {
  const spec = e.promptSet.spec;
  if (!("file" in spec)) return sha256(JSON.stringify(spec));
  try {
    return `file:${await hashRegularFile(resolve(plan.baseDir, spec.file))}`;
  } catch (error) {
    // Unreadable now: the run itself reports why; the fingerprint only has to differ.
    return `unreadable:${isVscaleError(error) ? error.message : String(error)}`;
  }
}

/** `server_files` when the argv names no file: left out of the digest, so results from before it still resume. */
const NO_SERVER_FILES = "none";

export function fingerprintDigest(parts: Record<FingerprintPart, string>): string {
  const keys = (Object.keys(FINGERPRINT_PARTS) as FingerprintPart[]).filter(
    (k) => !(k === "server_files" && (parts[k] ?? NO_SERVER_FILES) === NO_SERVER_FILES),
  );
  return sha256(keys.map((k) => `${k}=${parts[k]}`).join("\n"));
}

/** Above this a file is fingerprinted by size and modification time: model weights can be GBs. */
const HASH_FILE_MAX_BYTES = 64 << 20;

/**
 * The files the server's argv names (`--sim-profile p.json`, `--chat-template t.jinja`,
 * `--flag=path`), resolved as the server resolves them (from the runner's working folder):
 * their contents change what the server does, so resume must notice an edit. Directories
 * (a model folder) and arguments that name no existing file are left out.
 */
async function serverFilesDigest(argv: readonly string[]): Promise<string> {
  const entries: string[] = [];
  for (const arg of argv.slice(1)) {
    const value = arg.startsWith("--") && arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : arg;
    if (value === "" || value.startsWith("-")) continue;
    const path = resolve(value);
    const info = await stat(path).catch(() => null);
    if (info === null || !info.isFile()) continue;
    const content =
      info.size > HASH_FILE_MAX_BYTES
        ? `size:${info.size},mtime:${info.mtimeMs}`
        : await hashRegularFile(path).catch((error: unknown) => `unreadable:${String(error)}`);
    entries.push(`${value}=${content}`);
  }
  return entries.length === 0 ? NO_SERVER_FILES : sha256(entries.join("\n"));
}

/** Every experiment's fingerprint (prompt files are hashed once per prompt set). */
export async function fingerprintPlan(
  plan: Plan,
  env: NodeJS.ProcessEnv,
): Promise<Map<string, Fingerprint>> {
  const groups = new Map(plan.groups.map((g) => [g.id, g]));
  const promptDigests = new Map<string, string>();
  const out = new Map<string, Fingerprint>();
  for (const e of plan.experiments) {
    const group = groups.get(e.groupId);
    if (!group) throw new Error(`experiment ${e.id} names unknown group ${e.groupId}`);
    let prompts = promptDigests.get(e.promptSet.name);
    if (prompts === undefined) {
      prompts = await promptDigest(plan, e);
      promptDigests.set(e.promptSet.name, prompts);
    }
    const { api_key_env: _name, engine, ...settings } = e.load;
    // A free-running load hashes as before scenarios existed, so earlier results still resume.
    const { scenario, ...rest } = settings;
    const load = scenario === "mixed" ? rest : settings;
    const parts: Record<FingerprintPart, string> = {
      server_argv: sha256(JSON.stringify([group.kind, group.url ?? null, group.argv])),
      server_env: sha256(JSON.stringify(resolvedEnv(group, env))),
      model: sha256(group.model),
      load: sha256(JSON.stringify(Object.entries(load).sort(([a], [b]) => (a < b ? -1 : 1)))),
      engine: sha256(engine),
      prompts: sha256(prompts),
      seed: sha256(String(e.seed)),
      vscale_version: sha256(vscaleVersion()),
      server_files: await serverFilesDigest(group.argv),
    };
    out.set(e.id, { digest: fingerprintDigest(parts), parts });
  }
  return out;
}

/** What changed between a stored fingerprint and the current one, in the plan's words. */
export function fingerprintChanges(
  stored: Fingerprint | undefined,
  current: Fingerprint,
): string[] {
  if (stored === undefined) return ["no fingerprint recorded (an older vscale ran it)"];
  if (stored.digest === current.digest) return [];
  const changes = (Object.keys(FINGERPRINT_PARTS) as FingerprintPart[])
    .filter(
      (k) =>
        (stored.parts[k] ?? (k === "server_files" ? NO_SERVER_FILES : undefined)) !==
        current.parts[k],
    )
    .map((k) => FINGERPRINT_PARTS[k]);
  return changes.length > 0 ? changes : ["fingerprint changed"];
}
