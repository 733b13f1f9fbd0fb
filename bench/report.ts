/**
 * The row format every benchmark prints: formats/bench-rows.ts, where
 * `vscale bench` (cli/bench.ts) reads it too without importing from bench/.
 */
export { type BenchRow, parseBenchOutput, printBenchRows, ratio } from "../formats/bench-rows.ts";
