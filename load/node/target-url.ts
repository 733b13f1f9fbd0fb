/**
 * Where requests go: users write the server's base URL with or without a
 * trailing `/v1` (OpenAI clients take it with), so both are accepted.
 */
import { ConfigError } from "../../common/errors.ts";

export interface TargetUrl {
  origin: string;
  /** Path prefix before `/v1/...`, "" for a server at the root. */
  basePath: string;
}

export function parseTargetUrl(url: string, field = "url"): TargetUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`expected an http(s) URL such as http://127.0.0.1:8000, got "${url}"`, {
      field,
    });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigError(`expected an http or https URL, got "${parsed.protocol}"`, { field });
  }
  const basePath = parsed.pathname.replace(/\/+$/, "").replace(/\/v1$/, "");
  return { origin: parsed.origin, basePath };
}
