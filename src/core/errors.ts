/**
 * An error whose message is meant for the user: bad input, missing permission,
 * unknown ids. `code` is stable so adapters and tests can rely on it.
 */
export class UserError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: { usage?: string; example?: string; suggestions?: string[] },
  ) {
    super(message);
    this.name = "UserError";
  }
}
