/**
 * Every event name of the wire contract. The seed's names are kept to the letter; additions are
 * marked. Nothing outside this package spells an event name as a string literal.
 */
export const ClientEvent = {
  Authenticate: 'authenticate',
  JoinTrading: 'join-trading',
  SubscribeMarket: 'subscribe-market',
  SubscribeOrders: 'subscribe-orders',
  SubscribeCompliance: 'subscribe-compliance',
  Ping: 'ping',
  // additions
  LeaveTrading: 'leave-trading',
  UnsubscribeMarket: 'unsubscribe-market',
  UnsubscribeOrders: 'unsubscribe-orders',
  UnsubscribeCompliance: 'unsubscribe-compliance',
  Resume: 'resume',
  SubscribeBook: 'subscribe-book',
  UnsubscribeBook: 'unsubscribe-book',
  SubscribeTrades: 'subscribe-trades',
  UnsubscribeTrades: 'unsubscribe-trades',
  // trading over the socket and its safety nets (additions): answered through the ack
  PlaceOrder: 'place-order',
  CancelOrder: 'cancel-order',
  AmendOrder: 'amend-order',
  CancelAllOrders: 'cancel-all-orders',
  CancelOnDisconnect: 'cancel-on-disconnect',
  CancelAllAfter: 'cancel-all-after',
  SubscribeStatus: 'subscribe-status',
  UnsubscribeStatus: 'unsubscribe-status',
} as const;
export type ClientEventName = (typeof ClientEvent)[keyof typeof ClientEvent];

export const ServerEvent = {
  AuthSuccess: 'auth-success',
  AuthError: 'auth-error',
  TradingJoined: 'trading-joined',
  MarketSubscribed: 'market-subscribed',
  OrdersSubscribed: 'orders-subscribed',
  ComplianceSubscribed: 'compliance-subscribed',
  MarketUpdate: 'market-update',
  TradeUpdate: 'trade-update',
  OrderUpdate: 'order-update',
  SystemAlert: 'system-alert',
  ComplianceAlert: 'compliance-alert',
  Pong: 'pong',
  // additions
  TradingLeft: 'trading-left',
  MarketUnsubscribed: 'market-unsubscribed',
  OrdersUnsubscribed: 'orders-unsubscribed',
  ComplianceUnsubscribed: 'compliance-unsubscribed',
  Resumed: 'resumed',
  Session: 'session',
  RequestError: 'request-error',
  DisconnectReason: 'disconnect-reason',
  BookSubscribed: 'book-subscribed',
  BookUnsubscribed: 'book-unsubscribed',
  TradesSubscribed: 'trades-subscribed',
  TradesUnsubscribed: 'trades-unsubscribed',
  BookSnapshot: 'book-snapshot',
  BookUpdate: 'book-update',
  MarketTrade: 'market-trade',
  StatusSubscribed: 'status-subscribed',
  StatusUnsubscribed: 'status-unsubscribed',
  MarketStatus: 'market-status',
} as const;
export type ServerEventName = (typeof ServerEvent)[keyof typeof ServerEvent];

/** Server events that carry data envelopes (and so can be published by back-end services). */
export const DataEvent = {
  MarketUpdate: ServerEvent.MarketUpdate,
  TradeUpdate: ServerEvent.TradeUpdate,
  OrderUpdate: ServerEvent.OrderUpdate,
  SystemAlert: ServerEvent.SystemAlert,
  ComplianceAlert: ServerEvent.ComplianceAlert,
} as const;
export type DataEventName = (typeof DataEvent)[keyof typeof DataEvent];
export const DATA_EVENTS: readonly DataEventName[] = Object.values(DataEvent);

export function isDataEvent(name: unknown): name is DataEventName {
  return typeof name === 'string' && (DATA_EVENTS as readonly string[]).includes(name);
}

/**
 * Market feeds (additions, opt-in): the streaming order book, the public tape and market status.
 * Not envelopes and never sent to a socket that did not ask for them; each message carries its
 * own `seq`.
 */
export const FeedEvent = {
  BookSnapshot: ServerEvent.BookSnapshot,
  BookUpdate: ServerEvent.BookUpdate,
  MarketTrade: ServerEvent.MarketTrade,
  MarketStatus: ServerEvent.MarketStatus,
} as const;
export type FeedEventName = (typeof FeedEvent)[keyof typeof FeedEvent];

/** Private data events: logged durably before they are emitted, one stream per user. */
export const PRIVATE_EVENTS: readonly DataEventName[] = [
  DataEvent.TradeUpdate,
  DataEvent.OrderUpdate,
  DataEvent.ComplianceAlert,
];

/** The envelope `type` of each data event, as the seed spells them. */
export const EnvelopeType = {
  [DataEvent.MarketUpdate]: 'MARKET_UPDATE',
  [DataEvent.TradeUpdate]: 'TRADE_UPDATE',
  [DataEvent.OrderUpdate]: 'ORDER_UPDATE',
  [DataEvent.SystemAlert]: 'SYSTEM_ALERT',
  // The seed wraps compliance alerts in a SYSTEM_ALERT envelope with payload.type COMPLIANCE_ALERT.
  [DataEvent.ComplianceAlert]: 'SYSTEM_ALERT',
} as const satisfies Record<DataEventName, string>;
