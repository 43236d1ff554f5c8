import { SlackAdapter } from "../../adapters/slack/slack.adapter.js";
import type { App } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { silentLogger } from "../../src/core/logger.js";
import { postToBot, SlackPeer, slashBody, type ResponsePost } from "../peers/slack-peer.js";

/** A test app's Slack adapter (real Bolt over HTTP) on the local Slack peer, and how to type to it. */
export interface SlackHarness {
  peer: SlackPeer;
  slack: SlackAdapter;
  /** Where the peer posts events, slash commands and button presses to the bot. */
  eventsUrl: string;
  /** The signing secret requests to {@link eventsUrl} are signed with. */
  secret: string;
  team: string;
  /**
   * `command text` typed in Slack by `user` of the harness's team (its ack a 200): every post to
   * its response_url, once the first has come and the adapter is idle.
   */
  slash(text: string, user: string, command?: string): Promise<ResponsePost[]>;
  /** Stops the adapter and the peer (the app is the caller's to close). */
  stop(): Promise<void>;
}

/**
 * The local Slack peer for workspace `team`, with `users` (id → name) known to it, and a started
 * Slack adapter over `app`'s core in a shop in Asia/Shanghai and CNY (no retries, no waits).
 */
export async function slackHarness(app: Pick<App, "core" | "services">, o: { team: string; users: Readonly<Record<string, string>>; secret?: string }): Promise<SlackHarness> {
  const secret = o.secret ?? "signing-secret-harness";
  const peer = await new SlackPeer(o.team).start();
  for (const [id, name] of Object.entries(o.users)) peer.users.set(id, { id, name, locale: "en-US" });
  const config = loadConfig({ SHOP_TIMEZONE: "Asia/Shanghai", SHOP_CURRENCY: "CNY", SHOPOPS_ADMINS: "shell:admin", SLACK_BOT_TOKEN: "xoxb-harness", SLACK_SIGNING_SECRET: secret });
  const slack = new SlackAdapter({ core: app.core, services: app.services, config, logger: silentLogger, slackApiUrl: peer.apiUrl, retryConfig: { retries: 0 }, listen: { port: 0, host: "127.0.0.1" }, sleep: async () => {} });
  const started = await slack.start().catch(async (e: unknown) => {
    await peer.stop();
    throw e;
  });
  if (started.port === undefined) throw new Error("the Slack adapter started without an HTTP port");
  const eventsUrl = `http://127.0.0.1:${started.port}/slack/events`;
  return {
    peer,
    slack,
    eventsUrl,
    secret,
    team: o.team,
    async slash(text, user, command = "/ops") {
      const responseUrl = peer.responseUrl();
      const ack = await postToBot(eventsUrl, { secret, body: slashBody({ command, text, user, team: o.team, responseUrl }) });
      if (ack.status !== 200) throw new Error(`${command} ${text}: acknowledged with ${ack.status}`);
      await peer.waitForResponse(responseUrl, `the answer to ${command} ${text}`);
      await slack.idle();
      return peer.responsesTo(responseUrl);
    },
    async stop() {
      await slack.stop();
      await peer.stop();
    },
  };
}
