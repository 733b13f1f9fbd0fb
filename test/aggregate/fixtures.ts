/** Paths of the test fixtures (copies of ../shared/fixtures, so the tests are self-contained). */
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const GPU_FIXTURES = fileURLToPath(new URL("../fixtures/aggregate/gpu/", import.meta.url));
export const AGG_FIXTURES = fileURLToPath(new URL("../fixtures/aggregate/", import.meta.url));
/** CI clones the repo with `shared/` beside it. */
export const SHARED_GPU_FIXTURES = fileURLToPath(
  new URL("../../../shared/fixtures/gpu/", import.meta.url),
);
