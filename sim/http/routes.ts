/**
 * The HTTP routes of the simulated `vllm serve`: the same paths, methods,
 * auth rule and error shapes as vLLM's OpenAI server
 * (vllm/entrypoints/openai/api_server.py), plus the simulator's `/sim/stats`.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ResolvedSim } from "../options.ts";
import { detokenize, tokenize, tokenStrings } from "../tokenizer.ts";
import { renderChat } from "./chat-template.ts";
import { simStatsBody } from "./debug-stats.ts";
import { HttpError, sendError, sendJson, VALIDATION_ERROR_TYPE } from "./errors.ts";
import {
  type ApiKind,
  type PreparedRequest,
  prepareRequest,
  type ServingContext,
} from "./openai.ts";
import {
  type ChatMessage,
  DetokenizeRequestSchema,
  describeIssue,
  TokenizeRequestSchema,
} from "./request-schema.ts";

const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface RouteDeps {
  sim: ResolvedSim;
  ctx: ServingContext;
  version: string;
  isReady(): boolean;
  metricsText(): Promise<{ contentType: string; text: string }>;
  /**
   * Start a generation; the response is written by the token bridge.
   * `requestId`: the client's X-Request-Id header, which vLLM makes the response id.
   */
  admit(
    kind: ApiKind,
    prepared: PreparedRequest,
    res: ServerResponse,
    requestId: string | undefined,
  ): void;
  stats(): Parameters<typeof simStatsBody>;
  resetStats(): void;
  /** The torch profiler's endpoints; absent unless VLLM_TORCH_PROFILER_DIR is set. */
  profiler?: { startProfile(): void; stopProfile(): Promise<unknown> } | undefined;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/** The request handler; errors become vLLM's error bodies (or a reset once streaming). */
export function createRouter(deps: RouteDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { sim, ctx } = deps;
  const generate =
    (kind: ApiKind): Handler =>
    async (req, res) => {
      const prepared = prepareRequest(kind, await readJson(req), ctx);
      const header = req.headers["x-request-id"];
      deps.admit(kind, prepared, res, Array.isArray(header) ? header[0] : header);
    };
  const routes: Record<string, [string, Handler]> = {
    "/health": ["GET", (_req, res) => void res.writeHead(200, { "content-length": 0 }).end()],
    "/version": ["GET", (_req, res) => sendJson(res, 200, { version: deps.version })],
    "/v1/models": ["GET", (_req, res) => sendJson(res, 200, modelsBody(sim))],
    "/metrics": [
      "GET",
      async (_req, res) => {
        const { contentType, text } = await deps.metricsText();
        res.writeHead(200, { "content-type": contentType }).end(text);
      },
    ],
    "/tokenize": [
      "POST",
      async (req, res) => sendJson(res, 200, tokenizeBody(await readJson(req), ctx)),
    ],
    "/detokenize": [
      "POST",
      async (req, res) => sendJson(res, 200, detokenizeBody(await readJson(req), ctx)),
    ],
    "/sim/stats": ["GET", (_req, res) => sendJson(res, 200, simStatsBody(...deps.stats()))],
    "/sim/stats/reset": [
      "POST",
      (_req, res) => {
        deps.resetStats();
        res.writeHead(204).end();
      },
    ],
    "/v1/chat/completions": ["POST", generate("chat")],
    "/v1/completions": ["POST", generate("completion")],
  };
  const profiler = deps.profiler;
  if (profiler) {
    // vllm/entrypoints/serve/profile/api_router.py (v0.16.0) includes these routes only when a
    // profiler is configured; both answer an empty 200 once the profiler has started / flushed.
    routes["/start_profile"] = [
      "POST",
      (_req, res) => {
        profiler.startProfile();
        res.writeHead(200, { "content-length": 0 }).end();
      },
    ];
    routes["/stop_profile"] = [
      "POST",
      async (_req, res) => {
        await profiler.stopProfile();
        res.writeHead(200, { "content-length": 0 }).end();
      },
    ];
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://sim").pathname;
    if (!deps.isReady()) {
      sendError(res, new HttpError(503, "The server is starting up."));
      return;
    }
    // vLLM guards only the /v1 routes; health, metrics, version and tokenize stay open.
    if (
      sim.apiKey &&
      path.startsWith("/v1") &&
      req.headers.authorization !== `Bearer ${sim.apiKey}`
    ) {
      sendJson(res, 401, { error: "Unauthorized" });
      return;
    }
    const handler = routes[path];
    if (!handler) {
      sendJson(res, 404, { detail: "Not Found" });
      return;
    }
    if (handler[0] !== (req.method ?? "GET")) {
      sendJson(res, 405, { detail: "Method Not Allowed" });
      return;
    }
    await handler[1](req, res);
  }

  return (req, res) => {
    // --enable-request-id-headers: echo (or make) X-Request-Id (server_utils.py middleware).
    if (sim.enableRequestIdHeaders) {
      const header = req.headers["x-request-id"];
      res.setHeader(
        "X-Request-Id",
        (Array.isArray(header) ? header[0] : header) ?? randomUUID().replaceAll("-", ""),
      );
    }
    route(req, res).catch((error: unknown) => {
      const httpError =
        error instanceof HttpError
          ? error
          : new HttpError(500, error instanceof Error ? error.message : String(error));
      if (res.headersSent) res.destroy();
      else sendError(res, httpError);
    });
  };
}

/** `ModelList` of `ModelCard`s, each with one default `ModelPermission` (models/serving.py). */
function modelsBody(sim: ResolvedSim) {
  const created = Math.floor(Date.now() / 1000);
  return {
    object: "list",
    data: sim.servedNames.map((name) => ({
      id: name,
      object: "model",
      created,
      owned_by: "vllm",
      root: sim.model,
      parent: null,
      max_model_len: sim.maxModelLenResolved,
      permission: [
        {
          id: `modelperm-${randomUUID().replaceAll("-", "")}`,
          object: "model_permission",
          created,
          allow_create_engine: false,
          allow_sampling: true,
          allow_logprobs: true,
          allow_search_indices: false,
          allow_view: true,
          allow_fine_tuning: false,
          organization: "*",
          group: null,
          is_blocking: false,
        },
      ],
    })),
  };
}

function checkOptionalModel(ctx: ServingContext, model: unknown): void {
  if (typeof model === "string" && !ctx.servedNames.includes(model)) {
    throw new HttpError(404, `The model \`${model}\` does not exist.`, "model");
  }
}

function tokenizeBody(body: unknown, ctx: ServingContext) {
  const parsed = TokenizeRequestSchema.safeParse(body);
  if (!parsed.success) {
    const { message, param } = describeIssue(parsed.error);
    throw new HttpError(400, message, param, VALIDATION_ERROR_TYPE);
  }
  const request = parsed.data;
  checkOptionalModel(ctx, request.model);
  const text =
    typeof request.prompt === "string"
      ? request.prompt
      : renderChat(request.messages as ChatMessage[], request.add_generation_prompt !== false);
  const tokens = tokenize(text);
  return {
    count: tokens.length,
    max_model_len: ctx.maxModelLen,
    tokens,
    token_strs: request.return_token_strs ? tokenStrings(tokens) : null,
  };
}

function detokenizeBody(body: unknown, ctx: ServingContext) {
  const parsed = DetokenizeRequestSchema.safeParse(body);
  if (!parsed.success) {
    const { message, param } = describeIssue(parsed.error);
    throw new HttpError(400, message, param, VALIDATION_ERROR_TYPE);
  }
  checkOptionalModel(ctx, parsed.data.model);
  const prompt = detokenize(parsed.data.tokens);
  if (prompt === undefined)
    throw new HttpError(400, `Token id ${Math.max(...parsed.data.tokens)} is out of vocabulary`);
  return { prompt };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "request body too large");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(
      400,
      `JSON decode error: ${error instanceof Error ? error.message : String(error)}`,
      null,
      VALIDATION_ERROR_TYPE,
    );
  }
}
