export { QuantEnergxClient, streamOf, type QuantEnergxSocket } from './client.js';
export { QuantEnergxError, ClientErrorCode, isFatalAuthError, type ClientErrorCodeName, type QuantEnergxErrorCode } from './errors.js';
export { OrderedStreams, type Received } from './ordered-streams.js';
export { LocalBook, type BookApplied, type BookView } from './order-book.js';
export { TradingRest, type OrderAmendment } from './trading-rest.js';
export { EventLogApi, type EventPage, type LoggedEvent, type FetchLike } from './event-log-api.js';
export { tokenExpiry, refreshDelay, backoffDelay } from './token.js';
export type { QuantEnergxClientOptions, QuantEnergxClientEvents, ConnectInfo, DisconnectInfo, StreamGap } from './types.js';
export type {
  AuthSuccess,
  DisconnectNotice,
  Envelope,
  MarketConfirmation,
  MarketUpdatePayload,
  MarketTrade,
  BookSnapshot,
  BookUpdate,
  BookLevel,
  OrderUpdatePayload,
  TradeUpdatePayload,
  SystemAlertPayload,
  ComplianceAlertPayload,
  RoomConfirmation,
  UserRoomConfirmation,
  Pong,
} from '@qx/protocol';
