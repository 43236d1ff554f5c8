/** Source of the current time; services take one so tests can fix it. */
export interface Clock {
  now(): Date;
}

/** The real clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that returns a set time until moved (tests, simulations). */
export class FixedClock implements Clock {
  private t: number;
  constructor(start: Date | string) {
    this.t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  set(d: Date | string): void {
    this.t = new Date(d).getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Waits until every promise has settled, or `ms` have passed, whichever comes first (shutdown grace). */
export async function settleWithin(promises: Iterable<Promise<unknown>>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled([...promises]), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
