/**
 * Runs `run(i)` for each of `indexes`: those with the same key one after another, in the
 * order given; different keys side by side, at most `concurrency` keys at a time. For batches
 * whose items about one thing (an order, a SKU) must apply in order.
 */
export async function inKeyOrder(indexes: readonly number[], keyOf: (i: number) => string, concurrency: number, run: (i: number) => Promise<void>): Promise<void> {
  const groups = new Map<string, number[]>();
  for (const i of indexes) {
    const k = keyOf(i);
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  }
  const queue = [...groups.values()];
  const worker = async () => {
    for (let g = queue.shift(); g; g = queue.shift()) for (const i of g) await run(i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
}
