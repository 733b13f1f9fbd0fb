import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests start real servers and processes; two cores in CI.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
