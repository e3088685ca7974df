/** Builders of journal records from live state, and back (for restore). */
import type { OrderRecord, PositionRecord } from './journal.js';
import { Order } from './order.js';
import type { OrderState } from './order.js';
import type { Position } from './position.js';

export function orderRecord(order: OrderState): OrderRecord {
  const record: OrderRecord = {
    id: order.id,
    priority: order.priority,
    userId: order.userId,
    commodity: order.commodity,
    side: order.side,
    type: order.type,
    timeInForce: order.timeInForce,
    priceTicks: order.priceTicks,
    quantity: order.quantity,
    filledQuantity: order.filledQuantity,
    cancelledQuantity: order.cancelledQuantity,
    remainingQuantity: order.remainingQuantity,
    filledNotional: order.filledNotional,
    status: order.status,
    reason: order.reason,
    rejectCode: order.rejectCode,
    clientOrderId: order.clientOrderId,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  };
  if (order.queuePriority !== order.priority) record.queuePriority = order.queuePriority;
  if (order.placedPriceTicks !== order.priceTicks || order.placedQuantity !== order.quantity) {
    record.placed = { priceTicks: order.placedPriceTicks, quantity: order.placedQuantity };
  }
  return record;
}

export function orderFromRecord(r: OrderRecord): Order {
  const order = new Order(r.id, r.priority, r.userId, r.commodity, r.side, r.type, r.timeInForce, r.priceTicks, r.quantity, r.clientOrderId, r.createdAt);
  order.filledQuantity = r.filledQuantity;
  order.cancelledQuantity = r.cancelledQuantity;
  order.remainingQuantity = r.remainingQuantity;
  order.filledNotional = r.filledNotional;
  order.status = r.status;
  order.reason = r.reason;
  order.rejectCode = r.rejectCode;
  order.updatedAt = r.updatedAt;
  order.queuePriority = r.queuePriority ?? r.priority;
  if (r.placed !== undefined) {
    order.placedPriceTicks = r.placed.priceTicks;
    order.placedQuantity = r.placed.quantity;
  }
  return order;
}

export function positionRecord(position: Position, nowMs: number): PositionRecord {
  return {
    userId: position.userId,
    commodity: position.commodity,
    netQuantity: position.netQuantity,
    openCost: position.openCost,
    realizedPnl: position.realizedPnl,
    updatedAt: nowMs,
  };
}
