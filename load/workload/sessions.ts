/**
 * Multi-turn sessions (closed loop, `load.turns`): each user's requests form
 * conversations of `turns` turns; turn t sends the whole history (every
 * earlier user turn and reply) plus the new user turn, so the prompt grows
 * turn by turn as a chat client's does, with `think_time` between turns.
 *
 * Replies in the history come from the dataset (a ShareGPT conversation's own
 * replies), or, past its end and for sets without conversations, are words of
 * the turn's output length; never the live server's text. That keeps a
 * session's requests a pure function of (seed, user, k), so the Node engine
 * and k6 send the same bodies and a re-run repeats them, while the token
 * counts the server sees grow as they would with the live replies
 * (`ignore_eos` makes each reply exactly its output length).
 */
import { mixSeed } from "../../stats/hash.ts";
import { createRng } from "../../stats/rng.ts";
import { estimateTokens } from "./datasets.ts";
import { type ChatMessage, type Prompt, promptAsText, promptWords } from "./prompts.ts";

/** RNG streams of session choices (distinct from arrivals.ts's RNG_STREAM values). */
const SESSION_STREAM = 0x5e55;
const FILLER_STREAM = 0xf111;

export interface SessionTurn {
  /** The prompt chosen for the session's first turn (its conversation, if any, is replayed). */
  first: Prompt;
  firstIndex: number;
  /** Everything sent: history and the new user turn. */
  messages: ChatMessage[];
  /** `max_tokens` of this turn. */
  outputTokens: number;
}

/**
 * Turn `k mod turns` of session `floor(k / turns)` of `user`. Turns beyond a
 * conversation's end take their user text from further prompts of the set.
 */
export function sessionTurn(
  seed: number,
  prompts: readonly Prompt[],
  user: number,
  k: number,
  turns: number,
  defaultOutputTokens: number,
): SessionTurn {
  const session = Math.floor(k / turns);
  const turn = k % turns;
  const rng = createRng(mixSeed(seed, user, session), SESSION_STREAM);
  const firstIndex = rng.int(prompts.length);
  const first = prompts[firstIndex] as Prompt;
  const script = first.conversation ?? [{ role: "user", content: promptAsText(first) }];
  const messages: ChatMessage[] = [];
  let outputTokens = defaultOutputTokens;
  for (let t = 0; t <= turn; t++) {
    const userMsg = script[2 * t];
    const replyMsg = script[2 * t + 1];
    const extra = t === 0 ? first : (prompts[rng.int(prompts.length)] as Prompt);
    const fromScript = userMsg !== undefined && userMsg.role === "user";
    const userText = fromScript ? userMsg.content : promptAsText(extra);
    const length =
      fromScript && replyMsg !== undefined
        ? t === 0 && first.outputTokens !== undefined
          ? first.outputTokens
          : estimateTokens(replyMsg.content)
        : (extra.outputTokens ?? defaultOutputTokens);
    messages.push({ role: "user", content: userText });
    if (t === turn) {
      outputTokens = length;
      break;
    }
    const reply =
      fromScript && replyMsg !== undefined && replyMsg.role === "assistant"
        ? replyMsg.content
        : promptWords(createRng(mixSeed(seed, user, session, t), FILLER_STREAM), length).join(" ");
    messages.push({ role: "assistant", content: reply });
  }
  return { first, firstIndex, messages, outputTokens };
}
