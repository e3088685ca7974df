/** The human-readable messages of the seed's confirmations, built in one place. */
export const messages = {
  authSuccess: 'Authentication successful',
  tradingJoined: (userId: string) => `Joined trading room for user ${userId}`,
  tradingLeft: (userId: string) => `Left trading room for user ${userId}`,
  marketSubscribed: (commodities: readonly string[]) => `Subscribed to market data for: ${commodities.join(', ')}`,
  marketUnsubscribed: (commodities: readonly string[]) => `Unsubscribed from market data for: ${commodities.join(', ')}`,
  ordersSubscribed: (userId: string) => `Subscribed to order updates for user ${userId}`,
  ordersUnsubscribed: (userId: string) => `Unsubscribed from order updates for user ${userId}`,
  complianceSubscribed: (userId: string) => `Subscribed to compliance alerts for user ${userId}`,
  complianceUnsubscribed: (userId: string) => `Unsubscribed from compliance alerts for user ${userId}`,
  bookSubscribed: (commodity: string, depth: number) => `Subscribed to the ${commodity} order book, ${depth} levels`,
  bookUnsubscribed: (commodity: string) => `Unsubscribed from the ${commodity} order book`,
  tradesSubscribed: (commodities: readonly string[]) => `Subscribed to trades for: ${commodities.join(', ')}`,
  tradesUnsubscribed: (commodities: readonly string[]) => `Unsubscribed from trades for: ${commodities.join(', ')}`,
  statusSubscribed: (commodities: readonly string[]) => `Subscribed to market status for: ${commodities.join(', ')}`,
  statusUnsubscribed: (commodities: readonly string[]) => `Unsubscribed from market status for: ${commodities.join(', ')}`,
} as const;
