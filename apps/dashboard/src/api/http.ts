/**
 * The REST API, same origin, JSON in and out. Failures become an `ApiError` carrying the server's
 * coded error (`{error: {code, message, field?}}`) so the screen can show e.g. PRICE_OFF_TICK.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** the order the refusal concerns, when the server sent it (a rejected order, one no longer open) */
    readonly order?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; field?: unknown };
  order?: unknown;
}

export async function request<T>(path: string, init: { method?: string; token?: string | null; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.token) headers['authorization'] = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `The server cannot be reached (${err instanceof Error ? err.message : String(err)})`);
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: reported below when the status is an error */
  }
  if (!response.ok) {
    const error = (parsed as ErrorBody | null)?.error;
    const code = typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`;
    const message = typeof error?.message === 'string' ? error.message : response.statusText || 'Request failed';
    throw new ApiError(response.status, code, message, typeof error?.field === 'string' ? error.field : undefined, (parsed as ErrorBody | null)?.order);
  }
  return parsed as T;
}
