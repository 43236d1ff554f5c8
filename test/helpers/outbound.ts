import type { Deliverer, Destination } from "../../src/core/outbound.js";
import type { Platform } from "../../src/core/identity.js";
import type { Reply } from "../../src/core/reply.js";

/** A deliverer that records what it got and fails while `failing` is set. */
export function recorder(platform: Platform = "slack") {
  const got: { dest: Destination; reply: Reply }[] = [];
  const d: Deliverer & { failing: Error | null; got: typeof got } = {
    platform,
    failing: null,
    got,
    async deliver(dest, reply) {
      if (d.failing) throw d.failing;
      got.push({ dest, reply });
    },
  };
  return d;
}
