/**
 * The protocol without its zod schemas: event names, rooms, messages, error codes, envelopes,
 * event maps, the book checksum and the catalogue, with the schemas' types as types only. What a
 * client needs at run time: the SDK imports this entry (`@qx/protocol/wire`), so zod is not
 * loaded where nothing is validated.
 */
export * from './events.js';
export * from './rooms.js';
export * from './messages.js';
export * from './errors.js';
export * from './envelopes.js';
export * from './maps.js';
export * from './catalogue.js';
export * from './book.js';
export type {
  AuthenticatePayload,
  MarketUpdatePayload,
  TradeUpdatePayload,
  OrderUpdatePayload,
  SystemAlertPayload,
  ComplianceAlertPayload,
  DataPayloads,
  OrderRequestBody,
  OrderAmendBody,
  CandleInterval,
  Candle,
  CancelOnDisconnectScope,
  MarketStatusName,
  MarketStatusPayload,
} from './schemas.js';
