import type { ORDER_STATUSES } from "../store/models.js";

/** An order status. */
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * Allowed order status transitions: no shipping an unpaid order, no
 * un-cancelling, nothing after a full refund. Shared by the order commands
 * and the ingestion API.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ["paid", "cancelled"],
  paid: ["shipped", "cancelled", "refunded"],
  shipped: ["delivered", "refunded"],
  delivered: ["refunded"],
  cancelled: [],
  refunded: [],
};

/** True when an order may move from `from` to `to`. */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

/** Statuses whose orders count as paid (money received and not voided). */
export const PAID_STATUSES: readonly OrderStatus[] = ["paid", "shipped", "delivered", "refunded"];
