import type { Platform } from "./identity.js";
import type { Reply } from "./reply.js";

/** Where an outbound message goes: a person (by identity) or a channel on a platform. */
export type Destination =
  | { kind: "user"; identity: string }
  | { kind: "channel"; platform: Platform; channel: string };

/**
 * The outbound side of an adapter: delivers a rendered reply to a person or a
 * channel on its platform. Throwing means "not delivered": the outbox retries.
 * Throw a {@link RetryAfterError} to ask for a specific wait (rate limits).
 */
export interface Deliverer {
  readonly platform: Platform;
  deliver(dest: Destination, reply: Reply): Promise<void>;
}

/**
 * Thrown by a deliverer when the platform says the message can never be delivered as addressed
 * (a user who blocks DMs, an archived channel, an unknown user): the outbox marks it dead at once
 * instead of retrying it for twenty minutes. (Missing access stays retryable: an admin may fix it.)
 */
export class UndeliverableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UndeliverableError";
  }
}

/** A delivery failure that says when to try again (e.g. HTTP 429 Retry-After). */
export class RetryAfterError extends Error {
  constructor(
    readonly retryAfterMs: number,
    message = `rate limited: retry after ${retryAfterMs} ms`,
  ) {
    super(message);
    this.name = "RetryAfterError";
  }
}

/** The platform a destination belongs to (users by their identity prefix). */
export function platformOf(dest: Destination): Platform {
  return dest.kind === "channel" ? dest.platform : (dest.identity.slice(0, dest.identity.indexOf(":")) as Platform);
}
