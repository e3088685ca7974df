import type { CommodityMarket } from './commodity-market.js';
import type { ComplianceMonitor } from './compliance-monitor.js';
import type { JournalRecord, OrderRecord, TradeRecord } from './journal.js';
import type { MarketStatusBoard } from './market-status.js';
import type { MatchingEngine } from './matching-engine.js';
import type { RestoreSummary } from './operations.js';
import type { OrderRegistry } from './order-registry.js';
import type { PositionBook } from './position-book.js';
import { orderFromRecord } from './records.js';
import { isAgentUser, isOpenStatus } from './types.js';
import type { UserControls } from './user-controls.js';

/** The parts of an exchange that journal records rebuild. */
export interface RestoreTarget {
  markets: ReadonlyMap<string, CommodityMarket>;
  positions: PositionBook;
  compliance: ComplianceMonitor;
  orders: OrderRegistry;
  engine: MatchingEngine;
  status: MarketStatusBoard;
  controls: UserControls;
}

/**
 * Rebuilds an exchange's state from journaled records (the contract is in journal.ts): sessions,
 * positions and compliance levels as recorded; this session's last price and volume from its
 * trades; the books from the open orders in queue order; the clientOrderId index and the id
 * counters; kill switches, dead-man deadlines and market statuses as last recorded. The caller
 * checks that the exchange is fresh.
 */
export function restoreJournal(records: readonly JournalRecord[], target: RestoreTarget): RestoreSummary {
  const { markets, positions, compliance, orders: registry, engine, status, controls } = target;
  const orders = new Map<string, OrderRecord>();
  const trades = new Map<string, TradeRecord>();
  const summary: RestoreSummary = { orders: 0, openOrders: 0, trades: 0, positions: 0, skipped: 0, tradingDisabled: 0, deadManSwitches: 0, marketsNotOpen: 0 };
  const users = new Set<string>();
  for (const r of records) {
    switch (r.kind) {
      case 'order':
        orders.set(r.order.id, r.order);
        break;
      case 'trade':
        trades.set(`${r.trade.id}\u0000${r.trade.side}`, r.trade);
        break;
      case 'position': {
        const p = r.position;
        if (!markets.has(p.commodity) || isAgentUser(p.userId)) {
          summary.skipped++;
          break;
        }
        const position = positions.getOrCreate(p.userId, p.commodity);
        position.netQuantity = p.netQuantity;
        position.openCost = p.openCost;
        position.realizedPnl = p.realizedPnl;
        break;
      }
      case 'compliance':
        compliance.restoreLevel(r.compliance.userId, r.compliance.commodity, r.compliance.level);
        break;
      case 'session': {
        const market = markets.get(r.session.commodity);
        if (market === undefined) break;
        market.referenceTicks = r.session.referencePriceTicks;
        market.sessionStartedAt = r.session.startedAt;
        break;
      }
      case 'user-control':
        if (isAgentUser(r.control.userId)) summary.skipped++;
        else controls.restoreControl(r.control);
        users.add(r.control.userId);
        break;
      case 'dead-man':
        if (isAgentUser(r.deadMan.userId)) summary.skipped++;
        else controls.restoreDeadMan(r.deadMan);
        users.add(r.deadMan.userId);
        break;
      case 'market-status':
        if (!status.restore(r.status)) summary.skipped++;
        break;
      case 'connection':
        // the server's cancel-on-disconnect: its trading core restores it
        break;
    }
  }
  for (const userId of users) {
    if (!controls.status(userId).tradingEnabled) summary.tradingDisabled++;
    if (controls.deadline(userId) !== null) summary.deadManSwitches++;
  }
  summary.marketsNotOpen = status.views().filter((v) => v.status !== 'open').length;
  summary.positions = positions.users().reduce((n, u) => n + positions.ofUser(u).length, 0);

  // this session's last price and volume, from the journaled trades (each trade once)
  const counted = new Set<number>();
  let tradeSeq = 0;
  for (const t of [...trades.values()].sort((a, b) => a.seq - b.seq)) {
    tradeSeq = Math.max(tradeSeq, t.seq);
    summary.trades++;
    const market = markets.get(t.commodity);
    if (market === undefined || t.executedAt < market.sessionStartedAt || counted.has(t.seq)) continue;
    counted.add(t.seq);
    market.recordTrade(t.priceTicks, t.quantity);
  }

  const queued = (r: OrderRecord) => r.queuePriority ?? r.priority;
  let orderSeq = 0;
  for (const r of [...orders.values()].sort((a, b) => queued(a) - queued(b))) {
    orderSeq = Math.max(orderSeq, r.priority, queued(r));
    const market = markets.get(r.commodity);
    if (market === undefined || isAgentUser(r.userId)) {
      summary.skipped++;
      continue;
    }
    summary.orders++;
    const order = orderFromRecord(r);
    registry.rememberClientId(order);
    if (isOpenStatus(order.status) && order.remainingQuantity > 0 && order.priceTicks !== null) {
      engine.rest(order, market);
      summary.openOrders++;
    } else {
      registry.retire(order);
    }
  }
  engine.raiseSequences(orderSeq, tradeSeq);
  return summary;
}
