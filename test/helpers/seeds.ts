/** Seeds from an environment spec such as `1-40` or `7,9` (ranges inclusive), for the randomized tests. */
export function parseSeeds(spec: string): number[] {
  return spec.split(",").flatMap((part) => {
    const [a, b] = part.split("-").map(Number) as [number, number | undefined];
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

/**
 * Order lifecycles both randomized ingest tests generate: the statuses a storefront's messages
 * name, in order. Each test adds its own (a refund after delivery, a cancel then a refund).
 */
export const ORDER_LIFECYCLES = {
  pending: ["pending"],
  paid: ["pending", "paid"],
  shipped: ["pending", "paid", "shipped"],
  delivered: ["pending", "paid", "shipped", "delivered"],
  cancelBeforePay: ["pending", "cancelled"],
  cancelAfterPay: ["pending", "paid", "cancelled"],
  refundBeforeShip: ["pending", "paid", "refunded"],
  refundAfterShip: ["pending", "paid", "shipped", "refunded"],
} satisfies Record<string, string[]>;
