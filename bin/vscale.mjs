#!/usr/bin/env node
// Registers tsx's loader relative to this file (not the caller's cwd), so the
// installed `vscale` bin runs the TypeScript sources directly, with no build step.
import { register } from "tsx/esm/api";

register();
await import("../cli/vscale.ts");
