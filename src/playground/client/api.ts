/**
 * Calls to the service's JSON API, every failure turned into one readable line. Pure apart from
 * the `fetch` it is given, so tests drive it with a function that answers real Responses.
 */

export type ApiResult =
  | { ok: true; payload: unknown; headers: Headers }
  | {
      ok: false;
      /** HTTP status; 0 when no answer arrived at all. */
      status: number;
      message: string;
      /** From a positive Retry-After (seconds form). */
      retryAfterSeconds?: number;
    };

export type FetchLike = (path: string, init: RequestInit) => Promise<Response>;

/** GET without a body, POST JSON with one; the key (if any) as a Bearer token. */
export function apiRequestInit(key: string, body?: unknown): RequestInit {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body === undefined) return { method: 'GET', headers };
  headers['Content-Type'] = 'application/json';
  return { method: 'POST', headers, body: JSON.stringify(body) };
}

/** The service's error envelope `{ error: { message, type, code } }` as one line, e.g. `HTTP 401（authentication_error）：Invalid API key`. */
export function describeHttpError(status: number, payload: unknown): string {
  const error = (payload as { error?: { message?: unknown; type?: unknown; code?: unknown } } | null)?.error;
  const detail = typeof error?.message === 'string' ? error.message : JSON.stringify(payload);
  const kind = [error?.type, error?.code].filter((part): part is string => typeof part === 'string' && part.length > 0).join(' / ');
  return `HTTP ${status}${kind ? `（${kind}）` : ''}：${detail}`;
}

/** Retry-After in seconds when it is a positive number (the HTTP-date form is not used by the service). */
export function retryAfterSeconds(header: string | null): number | undefined {
  const seconds = Number(header);
  return header !== null && seconds > 0 ? seconds : undefined;
}

export async function callApi(fetchImpl: FetchLike, path: string, key: string, body?: unknown): Promise<ApiResult> {
  let response: Response;
  try {
    response = await fetchImpl(path, apiRequestInit(key, body));
  } catch (error) {
    return { ok: false, status: 0, message: `无法连接服务（${path}）：${error instanceof Error ? error.message : String(error)}` };
  }
  let payload: unknown;
  try {
    payload = await response.json();
  } catch {
    return { ok: false, status: response.status, message: `HTTP ${response.status}：服务返回的不是 JSON（${path}）` };
  }
  if (!response.ok) {
    const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
    return {
      ok: false,
      status: response.status,
      message: describeHttpError(response.status, payload),
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
    };
  }
  return { ok: true, payload, headers: response.headers };
}
