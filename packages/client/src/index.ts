export { QuantEnergxClient, streamOf, type QuantEnergxSocket, type BookOptions, type FlattenOptions, type CancelAllOptions } from './client.js';
export type { RequestOptions } from './requests.js';
export type { ClientStats } from './context.js';
export { newClientOrderId } from './orders.js';
export type { DeadManSwitch, DeadManSwitchOptions } from './safety.js';
export { acceptsOrders, isNewerStatus } from './market-status.js';
export { QuantEnergxError, ClientErrorCode, isFatalAuthError, type ClientErrorCodeName, type QuantEnergxErrorCode, type QuantEnergxErrorDetails } from './errors.js';
export { OrderedStreams, type Received } from './ordered-streams.js';
export { LocalBook, type BookApplied, type BookView } from './order-book.js';
export { addToTape, applyTradeToCandles, bucketStart, type CandleBar } from './tape.js';
export { liveReducer, initialLiveState, upsertOrders, upsertTrades, isOpenOrder, type LiveState, type LiveAction, type LiveStatus } from './live-state.js';
export { TradingRest, type OrderAmendment, type OrderCall } from './trading-rest.js';
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
  BookConfirmation,
  BookUnsubscribed,
  Pong,
  RequestError,
  WireError,
  ErrorCodeName,
  OrderRequestBody,
  OrderAmendBody,
  MarketStatusPayload,
  MarketStatusName,
  CancelOnDisconnectScope,
  CancelOnDisconnectAck,
  CancelAllAfterAck,
  CandleInterval,
  Candle,
  Commodity,
} from '@qx/protocol/wire';
