/**
 * The server's coded errors and order reasons in the trader's words: sizes in lots, prices to the
 * tick, no error codes. The server's messages are in units ("Order size 5000000 exceeds the
 * maximum order size 1000000 for WTI Crude Oil"); the numbers they carry are read back and said
 * in lots ("5,000 lots is above the maximum order size of 1,000 lots for WTI Crude Oil"). The
 * code stays available to the screen (data-code) for tests and support, never in the text.
 */
import { formatLots, formatPrice, formatTime } from './format.js';
import type { Commodity } from './types.js';

export interface Problem {
  code: string;
  message: string;
  field?: string;
}

/** The code and message of anything thrown: the REST layer's ApiError, the SDK's QuantEnergxError, or a plain Error. */
export function problemOf(err: unknown): Problem {
  const e = err as { code?: unknown; message?: unknown; field?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : 'ERROR';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return typeof e?.field === 'string' ? { code, message, field: e.field } : { code, message };
}

type Lots = Pick<Commodity, 'contractSize'> & Partial<Pick<Commodity, 'name' | 'tickSize'>>;

const lotsOf = (units: number, c: Lots | undefined) => {
  if (!c?.contractSize) return `${units.toLocaleString('en-US')} units`;
  return `${formatLots(units, c.contractSize)} ${Math.abs(units) === c.contractSize ? 'lot' : 'lots'}`;
};
const num = (s: string | undefined) => Number(s);

/**
 * An order's refusal or end as the engine words it (the `reason` of a rejected or cancelled order,
 * or the message of a COMPLIANCE_REJECTED / PRICE_OUT_OF_BAND / NO_LIQUIDITY error), in lots.
 * Reasons it does not know are returned as they are: they are words already.
 */
export function explainReason(reason: string, commodity?: Lots): string {
  const c = commodity;
  let m = /^Order size (\d+) exceeds the maximum order size (\d+)(?: for (.+))?$/.exec(reason);
  if (m) return `${lotsOf(num(m[1]), c)} is above the maximum order size of ${lotsOf(num(m[2]), c)}${m[3] ? ` for ${m[3]}` : ''}`;
  m = /^Order would exceed the position limit of (\d+)(?: for (.+?))? \(projected position (-?\d+)\)$/.exec(reason);
  if (m) {
    const projected = num(m[3]);
    return `The order could take your ${m[2] ? `${m[2]} ` : ''}position to ${lotsOf(Math.abs(projected), c)} ${projected >= 0 ? 'long' : 'short'} (counting your working orders), above the position limit of ${lotsOf(num(m[1]), c)}`;
  }
  m = /^Price (\S+) is outside the allowed band (\S+)–(\S+)$/.exec(reason);
  if (m) {
    const p = (s: string | undefined) => (c?.tickSize ? formatPrice(num(s), c.tickSize) : (s ?? ''));
    return `${p(m[1])} is outside the allowed band ${p(m[2])}–${p(m[3])} (±20% of the last price)`;
  }
  if (/^Fill-or-kill order cannot be filled in full/.test(reason)) return 'Not enough on the book to fill the whole order (fill-or-kill): nothing traded';
  if (/^No liquidity for a market order/.test(reason)) return 'Nothing on the book to trade with: the market order traded nothing';
  return reason;
}

/** What a refused request means, in words. `commodity` lets sizes be said in lots and prices to the tick. */
export function explain(problem: Problem, commodity?: Lots): string {
  const c = commodity;
  switch (problem.code) {
    case 'NETWORK':
    case 'HTTP_ERROR':
    case 'CONNECT_FAILED':
      return 'The server could not be reached: check the connection and try again';
    case 'SERVICE_UNAVAILABLE':
    case 'HTTP_502':
    case 'HTTP_503':
    case 'HTTP_504':
      return 'The server is unavailable (restarting or overloaded): try again in a moment';
    case 'ENGINE_UNAVAILABLE':
      return 'The trading engine is not available: the order was not executed';
    case 'INTERNAL':
    case 'HTTP_500':
      return 'The server failed to answer: try again, and tell support if it persists';
    case 'RATE_LIMITED':
      return 'Too many requests at once: wait a moment and try again';
    case 'UNAUTHORIZED':
    case 'INVALID_TOKEN':
      return 'Your sign-in is not valid (the server refused the token): sign in again';
    case 'TOKEN_EXPIRED':
      return 'Your sign-in has expired: sign in again';
    case 'USER_MISMATCH':
      return 'The token belongs to another user';
    case 'AUTH_RATE_LIMITED':
      return 'Too many failed sign-ins from here: wait a minute and try again';
    case 'TOO_MANY_CONNECTIONS':
      return 'You have too many screens open: close one and try again';
    case 'FORBIDDEN':
      return 'Not allowed for your account';
    case 'PRICE_OFF_TICK': {
      const m = /price (\S+) is not a multiple of the tick size (\S+)/.exec(problem.message);
      const price = num(m?.[1]);
      const tick = c?.tickSize ?? num(m?.[2]);
      if (m && Number.isFinite(price) && tick > 0) {
        const below = Math.floor(price / tick + 1e-9) * tick;
        return `${m[1]} is not on the price grid: ${c?.name ?? 'this market'} trades in steps of ${tick} (try ${formatPrice(below, tick)} or ${formatPrice(below + tick, tick)})`;
      }
      return 'The price is not on the price grid (a whole number of ticks)';
    }
    case 'PRICE_OUT_OF_BAND':
    case 'COMPLIANCE_REJECTED':
    case 'NO_LIQUIDITY':
      return explainReason(problem.message, c);
    case 'QUANTITY_INVALID':
      return 'Quantity must be a whole number of lots';
    case 'INVALID_ORDER':
      return `The order is not valid: ${problem.message}`;
    case 'UNKNOWN_COMMODITY':
      return 'This market is not traded here';
    case 'ORDER_NOT_FOUND':
      return 'That order was not found (it may belong to another account)';
    case 'ORDER_NOT_CANCELLABLE':
    case 'ORDER_NOT_OPEN':
      return 'The order is no longer working (it filled, was cancelled or expired): nothing was changed';
    case 'INVALID_QUANTITY':
      return 'The new quantity must be more than what has already filled';
    case 'NO_POSITION':
      return 'There is no position to flatten';
    case 'CLIENT_ORDER_ID_CONFLICT':
      return 'This order was already sent with other details: nothing was changed';
    case 'PAYLOAD_TOO_LARGE':
      return 'The request is too large';
    case 'MARKET_HALTED': {
      // "Trading in brent is halted until 2026-03-02T14:05:03.120Z: Exchange incident"
      const m = /^Trading in \S+ is halted (?:until it is reopened|until (\S+)): (.*)$/.exec(problem.message);
      if (!m) return `${c?.name ?? 'This market'} is halted: orders and amends are refused; cancels work`;
      const until = m[1] ? `until ${formatTime(m[1])} UTC` : 'until it is reopened';
      return `${c?.name ?? 'This market'} is halted ${until}: ${m[2]}. Orders and amends are refused; cancels work`;
    }
    case 'MARKET_CLOSED': {
      const m = /: (.*)$/.exec(problem.message);
      return `${c?.name ?? 'This market'} is closed${m ? `: ${m[1]}` : ''}. Orders are refused until the next session opens`;
    }
    case 'TRADING_DISABLED': {
      const m = /^Trading is disabled for this account: (.*)$/.exec(problem.message);
      return `Trading is turned off for your account by risk management${m ? `: ${m[1]}` : ''}. Cancels still work`;
    }
    case 'REQUEST_TIMEOUT':
      return 'The server did not answer in time: check your orders before trying again';
    case 'NOT_CONNECTED':
    case 'CLIENT_CLOSED':
      return 'Not connected: orders cannot be sent until the connection is back';
    default:
      return problem.message;
  }
}

/** `explain(problemOf(err), commodity)`. */
export const explainError = (err: unknown, commodity?: Lots): string => explain(problemOf(err), commodity);
