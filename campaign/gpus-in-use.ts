/**
 * Which GPUs an experiment's server was given, so that aggregation averages
 * utilisation, memory and power over those and not over the whole host (a
 * 1-GPU experiment on an 8-GPU host would read about 8× too idle).
 *
 * `kind: vllm`: CUDA_VISIBLE_DEVICES as the server got it (indices, or GPU
 * UUIDs matched against the nvidia-smi inventory). CUDA numbers devices
 * fastest-first unless CUDA_DEVICE_ORDER=PCI_BUS_ID, nvidia-smi by PCI bus;
 * on the uniform hosts vLLM runs on the two orders agree. `kind: external`:
 * the matrix's `server.gpu_indices`. `kind: sim`: none, host-wide.
 */
import type { GpuInfo, GpusInUse } from "../formats/raw-layout.ts";

export function gpusInUse(args: {
  kind: "sim" | "vllm" | "external";
  /** CUDA_VISIBLE_DEVICES in the server's environment (vllm). */
  cudaVisibleDevices: string | undefined;
  /** `server.gpu_indices` (external). */
  configured: number[] | undefined;
  inventory: GpuInfo[] | null;
}): GpusInUse {
  const hostWide = (note: string): GpusInUse => ({ indices: null, source: "host-wide", note });
  if (args.kind === "sim") {
    return hostWide("the simulator uses no GPU: GPU figures are host-wide");
  }
  if (args.kind === "external") {
    if (args.configured === undefined) {
      return hostWide(
        "kind: external without server.gpu_indices: GPU figures are host-wide (list the server's GPUs there)",
      );
    }
    return {
      indices: [...args.configured].sort((a, b) => a - b),
      source: "server.gpu_indices",
      note: null,
    };
  }
  const value = args.cudaVisibleDevices;
  if (value === undefined) {
    return hostWide(
      "CUDA_VISIBLE_DEVICES is unset, so the server may use every GPU: figures are host-wide",
    );
  }
  const indices: number[] = [];
  for (const raw of value.split(",").map((d) => d.trim())) {
    if (raw === "") continue;
    if (/^\d+$/.test(raw)) {
      indices.push(Number(raw));
      continue;
    }
    // CUDA accepts a unique prefix of a GPU's UUID, as nvidia-smi prints it (GPU-…).
    const matches = (args.inventory ?? []).filter((g) => g.uuid.startsWith(raw));
    if (matches.length !== 1) {
      return hostWide(
        `CUDA_VISIBLE_DEVICES entry "${raw}" names no single GPU of the inventory: figures are host-wide`,
      );
    }
    indices.push((matches[0] as GpuInfo).index);
  }
  return {
    indices: [...new Set(indices)].sort((a, b) => a - b),
    source: "CUDA_VISIBLE_DEVICES",
    note: null,
  };
}
