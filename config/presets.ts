/**
 * Named presets (`vscale campaign --preset chat|rag|summarize|prefill-heavy`):
 * partial matrices as data in config/presets/, as GuideLLM ships its
 * benchmark scenarios. A preset is merged under the user's matrix before
 * validation: mappings merge key by key, the user's value wins, lists and
 * scalars replace whole. `slo` replaces whole too: objectives are a set, and
 * a user's own SLO must not inherit the preset's other limits.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { ConfigError } from "../common/errors.ts";

export const PRESET_NAMES = ["chat", "rag", "summarize", "prefill-heavy"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export function presetFile(name: PresetName): string {
  return fileURLToPath(new URL(`./presets/${name}.yaml`, import.meta.url));
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const WHOLE = new Set(["slo"]);

/** `over` merged onto `under`: mappings key by key, anything else (and `slo`) replaced. */
export function mergeUnder(under: unknown, over: unknown): unknown {
  if (!isMapping(under) || !isMapping(over)) return over === undefined ? under : over;
  const out: Record<string, unknown> = { ...under };
  for (const [k, v] of Object.entries(over)) out[k] = WHOLE.has(k) ? v : mergeUnder(under[k], v);
  return out;
}

export async function readPreset(name: string): Promise<Record<string, unknown>> {
  if (!(PRESET_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown preset "${name}"`, {
      field: "--preset",
      hint: `one of ${PRESET_NAMES.join(", ")}`,
    });
  }
  const value: unknown = parse(await readFile(presetFile(name as PresetName), "utf8"));
  if (!isMapping(value))
    throw new ConfigError("a preset must be a mapping", { file: presetFile(name as PresetName) });
  return value;
}
