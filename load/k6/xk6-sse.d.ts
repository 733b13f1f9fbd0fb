/**
 * Types of the `xk6-sse` extension (github.com/phymbert/xk6-sse), which a k6
 * build must include (`xk6 build --with github.com/phymbert/xk6-sse`) for
 * `chat-sse.ts`. @types/k6 does not cover extensions.
 */
declare module "k6/x/sse" {
  export interface SseParams {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    tags?: Record<string, string>;
  }
  export interface SseEvent {
    id: string;
    name: string;
    data: string;
  }
  export interface SseError {
    error(): string;
  }
  export interface SseClient {
    on(event: "open", callback: () => void): void;
    on(event: "event", callback: (event: SseEvent) => void): void;
    on(event: "error", callback: (error: SseError) => void): void;
    close(): void;
  }
  export interface SseResponse {
    status: number;
    error?: string;
    error_code?: number;
  }
  const sse: {
    open(url: string, params: SseParams, callback: (client: SseClient) => void): SseResponse;
  };
  export default sse;
}
