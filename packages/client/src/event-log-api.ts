/**
 * The gateway's durable event log over REST (`GET /api/v1/events?stream=&after=&limit=`): where
 * the client reads what a `resume` could not replay, and where a stream stands when subscribed.
 */
import { ErrorCode, type DataEventName, type Envelope, type ErrorCodeName } from '@qx/protocol/wire';
import { QuantEnergxError } from './errors.js';
import { fetchFailure, type FetchLike } from './http.js';

export type { FetchLike } from './http.js';

export interface LoggedEvent {
  event: DataEventName;
  seq: number;
  envelope: Envelope;
}

export interface EventPage {
  stream: string;
  after: number;
  events: LoggedEvent[];
  hasMore: boolean;
  /** the stream's last seq at the time of the read */
  lastSeq: number;
}


export class EventLogApi {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchFn: FetchLike,
    private readonly timeoutMs: number,
  ) {}

  async page(stream: string, after: number, limit: number, token: string): Promise<EventPage> {
    const url = `${this.baseUrl}/api/v1/events?stream=${encodeURIComponent(stream)}&after=${after}&limit=${limit}`;
    let res: Awaited<ReturnType<FetchLike>>;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      res = await this.fetchFn(url, { headers: { authorization: `Bearer ${token}` }, signal: timeout });
    } catch (err) {
      throw fetchFailure(err, `Event log (${stream})`, this.timeoutMs, undefined, timeout);
    }
    const body = (await res.json().catch(() => null)) as (EventPage & { error?: { code?: string; message?: string } }) | null;
    if (!res.ok || !body || !Array.isArray(body.events)) {
      const wire = body?.error?.code;
      const code = wire !== undefined && wire in ErrorCode ? (wire as ErrorCodeName) : 'HTTP_ERROR';
      const message = body?.error?.message ?? `Event log answered HTTP ${res.status}`;
      throw new QuantEnergxError(code, `${message} (${stream})`, { status: res.status });
    }
    return body;
  }

  /** The stream's last seq (reads no events). */
  async lastSeq(stream: string, token: string): Promise<number> {
    return (await this.page(stream, Number.MAX_SAFE_INTEGER, 1, token)).lastSeq;
  }
}

/** `http://host:port` of a Socket.IO URL (which may name a path or namespace). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url.replace(/\/+$/, '');
  }
}
