/** A recording stand-in for fetch, answering from a handler: unit tests of the adapters' HTTP. */
export interface Recorded {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

export type Handler = (req: Recorded) => Response | Promise<Response>;

export function fakeFetch(handler: Handler): { fetch: typeof fetch; requests: Recorded[] } {
  const requests: Recorded[] = [];
  const fetchImpl = async (
    input: Request | string | URL,
    init?: RequestInit,
  ): Promise<Response> => {
    const req = new Request(input, init);
    const recorded: Recorded = {
      method: req.method,
      url: new URL(req.url),
      headers: req.headers,
      body: await req.text(),
    };
    requests.push(recorded);
    const signal = init?.signal;
    signal?.throwIfAborted();
    // Like fetch: an abort (timeout) rejects with the signal's reason, whatever the server does.
    const aborted = new Promise<never>((_, reject) =>
      signal?.addEventListener("abort", () => reject(signal.reason as Error), { once: true }),
    );
    return Promise.race([Promise.resolve(handler(recorded)), aborted]);
  };
  return { fetch: fetchImpl as typeof fetch, requests };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function xml(body: string, status = 200): Response {
  return new Response(body, { status, headers: { "content-type": "application/xml" } });
}

/** A controllable clock for token expiry. */
export function clock(start = Date.parse("2026-03-01T10:00:00Z")): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}
