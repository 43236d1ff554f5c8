import { TZDate } from "@date-fns/tz";
import { ALERT_TYPES, isSlackChannelName, routeChannel, type AlertRoute, type AlertType, type Config } from "../config.js";
import { localTime } from "../core/args.js";
import type { Clock } from "../core/clock.js";
import { addDays, localDay } from "../core/format.js";
import type { Logger } from "../core/logger.js";
import { platformOf } from "../core/outbound.js";
import { translator, type Translate } from "../core/messages.js";
import type { Reply } from "../core/reply.js";
import type { OutboxDoc, Store } from "../store/models.js";
import { reviveReply, type OutboxService } from "./outbox.service.js";

/** A route as listed: where it comes from. */
export interface ListedRoute extends AlertRoute {
  source: "config" | "admin";
  /** True when an admin turned this configured route off. */
  off?: boolean;
  /** The admin's stored route (source `admin`): who set it and when. */
  setBy?: string;
  setAt?: Date;
}

/** What {@link AlertService.send} did. */
export interface SendResult {
  /** Messages queued now (0 on a replay of the same key). */
  queued: number;
  /** Channels the alert is routed to. */
  routes: AlertRoute[];
  /** Set when quiet hours hold the alert: it is delivered then. */
  heldUntil?: Date;
}

/** What {@link AlertService.setRoute} did with the alerts still waiting for the channels it replaced. */
export interface RouteChange {
  /** Queued for the new channel instead. */
  moved: number;
  /** Taken back (the route is now off). */
  withdrawn: number;
  /** The old channels they were waiting for. */
  channels: string[];
  /** The channels the type went to on that platform before the change (none: it was off), for its audit entry. */
  previous: string[];
  /**
   * Set when what was asked is in effect already: nothing was written. `by` is the admin whose
   * stored route it is; absent when the configuration gives it (or no route does).
   */
  unchanged?: { by?: string };
}

/** What {@link AlertService.resetRoute} did: a {@link RouteChange}, and the configured channels now in effect. */
export interface RouteReset extends RouteChange {
  /** The channels ALERT_ROUTES gives that type on that platform (none: its alerts are off there). */
  configured: string[];
}

/** What {@link AlertService.send} takes. */
export interface SendInput {
  type: AlertType;
  /** Idempotency key: one message per key and channel. */
  key: string;
  reply: Reply;
  /** Urgent alerts are not held by quiet hours. */
  urgent?: boolean;
  /** Every route as {@link AlertService.list} gave it, read once by a caller sending many alerts; read now when left out. */
  routes?: readonly ListedRoute[];
}

/**
 * Alert routing: which channel on which platform receives which alert type.
 * Routes come from ALERT_ROUTES; an admin's `alerts route` (stored in MongoDB)
 * replaces the configured channel for that type and platform. Alerts are queued
 * in the outbox (retried, recorded); quiet hours hold non-urgent ones.
 */
export class AlertService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly outbox: OutboxService,
    private readonly config: Pick<Config, "alertRoutes" | "quietHours" | "timeZone" | "locale">,
    private readonly logger: Logger,
  ) {
    // A complaint reminder to its assignee that cannot reach them (a deactivated Slack user, a
    // Discord member who blocks DMs) goes to the support channel instead, once: it exists to
    // prevent a breach, so someone must get it.
    // Messages other services queue as non-urgent (`quiet: true`, a refund's expiry notice) wait for these quiet hours too.
    outbox.setQuietHours((at) => this.quietUntil(at));
    outbox.onDead(async (msg, error) => {
      const dest = msg.dest as { kind?: string; identity?: string };
      if (msg.kind !== "complaints" || dest.kind !== "user" || !dest.identity) return;
      const reply = reviveReply(msg.reply);
      const note = translator(config.locale)("notify.dm_undelivered", { identity: dest.identity, error: error.slice(0, 200) });
      await this.send({ type: "complaints", key: `${msg._id}:undelivered`, reply: { ...reply, context: [...(reply.context ?? []), note] }, urgent: true });
    });
  }

  /** The platforms this process delivers to, as start-up found them; unknown (a one-shot script, a test) until set. */
  private running?: { platforms: ReadonlySet<string>; http: boolean };

  /** Records which platforms this process runs (and whether it serves HTTP), for {@link idleWarning}. */
  setRunning(platforms: Iterable<string>, http = false): void {
    this.running = { platforms: new Set(platforms), http };
  }

  /**
   * The start-up warning for those of `routes` on a platform this process does not run, whose
   * alerts would wait undelivered here (without its advice to route them: `alerts route` just
   * did); null when all run, or when it is not known which run (a one-shot `shell -c`, whose
   * alerts the long-running bot delivers).
   */
  idleWarning(routes: readonly AlertRoute[], t: Translate): string | null {
    const run = this.running;
    if (!run) return null;
    const idle = routes.filter((r) => r.channel !== "off" && !run.platforms.has(r.platform));
    if (!idle.length) return null;
    return t("alerts.route_idle", { routes: idle.map((r) => `${r.type}:${r.platform}:${r.channel}`).join(", "), running: [...run.platforms].join(", ") || t(run.http ? "startup.no_chat" : "startup.no_platform") });
  }

  /**
   * The warning for direct messages to `identity` when this process does not run its platform
   * (subscribed from the shell as `--as discord:…` where only Slack runs): they would wait
   * undelivered here. Null when it runs, or when it is not known which run (as {@link idleWarning}).
   */
  idleDirect(identity: string, t: Translate): string | null {
    const run = this.running;
    const platform = platformOf({ kind: "user", identity });
    if (!run || run.platforms.has(platform)) return null;
    return t("notify.dm_idle", { identity, platform, running: [...run.platforms].join(", ") || t(run.http ? "startup.no_chat" : "startup.no_platform") });
  }

  /** Every route in effect, configured and admin-set, by type then platform. */
  async list(): Promise<ListedRoute[]> {
    // A Slack id stored in lower case by an older version (`c0123abcd`) is read as Slack writes it.
    const stored = (await this.store.alertRoutes.find({}).lean()).map((r) => ({ ...r, channel: routeChannel(r.platform, r.channel) }));
    const overridden = new Map(stored.map((r) => [`${r.type}:${r.platform}`, r]));
    const out: ListedRoute[] = [];
    for (const r of this.config.alertRoutes) {
      const o = overridden.get(`${r.type}:${r.platform}`);
      if (!o) out.push({ ...r, source: "config" });
      else if (o.channel === "off") out.push({ ...r, source: "admin", off: true, setBy: o.setBy, setAt: o.setAt });
    }
    const configured = new Set(this.config.alertRoutes.map((r) => `${r.type}:${r.platform}`));
    for (const r of stored) {
      const route = { type: r.type as AlertType, platform: r.platform as AlertRoute["platform"], channel: r.channel, setBy: r.setBy, setAt: r.setAt };
      if (r.channel !== "off") out.push({ ...route, source: "admin" });
      // An admin's `off` where the configuration routes nothing: listed too (as channel "off"), so
      // what is stored, and would silence a route ALERT_ROUTES gives there later, is visible.
      else if (!configured.has(`${r.type}:${r.platform}`)) out.push({ ...route, source: "admin", off: true });
    }
    const order = (t: string) => (ALERT_TYPES as readonly string[]).indexOf(t);
    return out.sort((a, b) => order(a.type) - order(b.type) || a.platform.localeCompare(b.platform));
  }

  /**
   * The start-up warning for routes in effect that name a Slack channel (`low_stock:slack:#ops`
   * in ALERT_ROUTES, or stored before `alerts route` took ids only) rather than give its id: text
   * alerts reach it, but the digest's chart upload takes an id only and a renamed channel loses
   * them. Null when none does. `routes`: {@link list} when the caller has read it already (start-up).
   */
  async slackNameWarning(t: Translate, routes?: readonly ListedRoute[]): Promise<string | null> {
    const named = (routes ?? (await this.list())).filter((r) => !r.off && isSlackChannelName(r.platform, r.channel));
    if (!named.length) return null;
    return t("startup.slack_names", { routes: named.map((r) => `${r.type}:${r.platform}:${r.channel}`).join(", ") });
  }

  /** The channels alerts of `type` go to now. */
  async routesFor(type: AlertType): Promise<AlertRoute[]> {
    return routesOf(type, await this.list());
  }

  /** What governs `type` on `platform`: the admin's stored route (a channel, or "off"), if any, and the configured channels. */
  private async routeState(type: AlertType, platform: AlertRoute["platform"]): Promise<{ stored: { channel: string; setBy: string } | null; configured: string[] }> {
    const doc = await this.store.alertRoutes.findById(`${type}:${platform}`).lean();
    const configured = [...new Set(this.config.alertRoutes.filter((r) => r.type === type && r.platform === platform).map((r) => r.channel))];
    return { stored: doc ? { channel: routeChannel(platform, doc.channel), setBy: doc.setBy } : null, configured };
  }

  /**
   * Sets (one document per type and platform) the channel for `type` on `platform`; "off" silences it.
   * What is in effect already (the same channel, or off where nothing is routed) writes nothing
   * (`unchanged`): a configured route stays the configuration's, so a later edit of ALERT_ROUTES
   * still applies. Alerts of that type still waiting for the channel(s) it replaces (held by
   * quiet hours, or retrying: a bot not in that channel) follow the change: withdrawn when it is
   * "off", else queued for the new channel under their own key with it. Said in the reply, as `channels`.
   */
  async setRoute(input: { type: AlertType; platform: AlertRoute["platform"]; channel: string; by: string }): Promise<RouteChange> {
    const { stored, configured } = await this.routeState(input.type, input.platform);
    const before = stored ? (stored.channel === "off" ? [] : [stored.channel]) : configured;
    const wanted = input.channel === "off" ? [] : [input.channel];
    if (before.length === wanted.length && before.every((c) => wanted.includes(c))) return { moved: 0, withdrawn: 0, channels: [], previous: before, unchanged: stored ? { by: stored.setBy } : {} };
    // The route as it was when replaced (one step): what another admin set meanwhile is what the
    // audit entry names as before, and whose waiting alerts follow.
    const prior = await this.store.alertRoutes
      .findOneAndUpdate(
        { _id: `${input.type}:${input.platform}` },
        { $set: { type: input.type, platform: input.platform, channel: input.channel, setBy: input.by, setAt: this.clock.now() } },
        { upsert: true, returnDocument: "before" },
      )
      .lean();
    const was = prior ? (prior.channel === "off" ? [] : [prior.channel]) : configured;
    return { ...(await this.follow(input.type, input.platform, was.filter((c) => !wanted.includes(c)), wanted)), previous: was };
  }

  /**
   * Drops the admin's route for `type` on `platform` (`alerts route … default`): the configuration
   * applies again. Alerts still waiting for the dropped channel follow as for {@link setRoute}
   * (to the configured channels, or withdrawn when none). `unchanged` when no route was stored.
   */
  async resetRoute(input: { type: AlertType; platform: AlertRoute["platform"] }): Promise<RouteReset> {
    const configured = (await this.routeState(input.type, input.platform)).configured;
    // The document as it was when deleted (one step): what another admin set meanwhile is what is dropped, and followed.
    const gone = await this.store.alertRoutes.findOneAndDelete({ _id: `${input.type}:${input.platform}` }).lean();
    if (!gone) return { moved: 0, withdrawn: 0, channels: [], previous: configured, unchanged: {}, configured };
    const old = gone.channel === "off" || configured.includes(gone.channel) ? [] : [gone.channel];
    return { ...(await this.follow(input.type, input.platform, old, configured)), previous: gone.channel === "off" ? [] : [gone.channel], configured };
  }

  /**
   * Moves alerts of `type` still waiting (`pending`) for the channels `old` on `platform` to the
   * channels `to`, or withdraws them when `to` is empty.
   */
  private async follow(type: AlertType, platform: AlertRoute["platform"], old: readonly string[], to: readonly string[]): Promise<Omit<RouteChange, "previous">> {
    const change: Omit<RouteChange, "previous"> = { moved: 0, withdrawn: 0, channels: [] };
    if (old.length === 0) return change;
    // Only messages not being sent right now (`pending`): one a sender holds goes where it was going.
    const waiting = await this.store.outbox
      .find({ kind: type, status: "pending", "dest.kind": "channel", "dest.platform": platform, "dest.channel": { $in: old } })
      .lean<OutboxDoc[]>();
    const now = this.clock.now();
    for (const m of waiting) {
      const from = (m.dest as { channel: string }).channel;
      const suffix = `:${platform}:${from}`;
      if (to.length) {
        // Not queued by `send` (no channel in its key): left where it is rather than keyed anew.
        if (!m._id.endsWith(suffix)) continue;
        // Queued for the new channel(s) first, under the key `send` gives it there (a replayed alert
        // then queues nothing more), then taken off the old one: a crash in between may send it
        // to both, never to neither. Its failures were the old channel's: the new one starts afresh.
        for (const channel of to) {
          await this.outbox.requeue(m, { id: `${m._id.slice(0, -suffix.length)}:${platform}:${channel}`, dest: { kind: "channel", platform, channel }, notBefore: m.attempts > 0 ? now : m.notBefore });
        }
      }
      if (!(await this.outbox.withdraw(m._id))) continue;
      if (to.length) change.moved++;
      else change.withdrawn++;
      if (!change.channels.includes(from)) change.channels.push(from);
    }
    return change;
  }

  /**
   * {@link send} for one run that sends many alerts (a job run): the routes are read once,
   * at its first alert, and used for all of them.
   */
  sender(): (input: Omit<SendInput, "routes">) => Promise<SendResult> {
    let routes: Promise<ListedRoute[]> | undefined;
    return async (input) => this.send({ ...input, routes: await (routes ??= this.list()) });
  }

  /** The end of the quiet hours `at` falls in, or null when it is outside them (or none are set). */
  quietUntil(at: Date): Date | null {
    const q = this.config.quietHours;
    if (!q) return null;
    const tz = this.config.timeZone;
    const local = new TZDate(at.getTime(), tz);
    const m = local.getHours() * 60 + local.getMinutes();
    const [sh, sm] = q.start.split(":").map(Number) as [number, number];
    const [eh, em] = q.end.split(":").map(Number) as [number, number];
    const s = sh * 60 + sm;
    const e = eh * 60 + em;
    const today = localDay(at, tz);
    const [ty, tmo, td] = today.split("-").map(Number) as [number, number, number];
    // Clocks that fell back since the start read earlier than it (quiet from 01:30, now 01:10 the
    // second time round): quiet since its first occurrence all the same, not a half-hour hole.
    const inside = (s < e ? m >= s && m < e : m >= s || m < e) || (m < s && localTime(ty, tmo, td, sh, sm, tz).at.getTime() <= at.getTime());
    if (!inside) return null;
    const day = m < e ? today : addDays(today, 1);
    const [y, mo, d] = day.split("-").map(Number) as [number, number, number];
    // An end the clocks skip (02:30 the night they spring forward) is the instant they jump to
    // (03:00), when the check above already finds it outside: held alerts go then, not an hour late.
    const end = localTime(y, mo, d, eh, em, tz).at;
    // An end already past (quiet hours ending inside the hour repeated when clocks fall back: 01:15
    // EST, the second time round, after 01:30 EDT) means they are over: not quiet, never a hold
    // "until" a time gone by, which senders would deliver at once while others read it as quiet.
    return end.getTime() > at.getTime() ? end : null;
  }

  /**
   * Queues a direct message to one person, once per `key`; like channel alerts, a non-urgent
   * one in quiet hours is held until they end. True when it was queued now.
   */
  async direct(input: { key: string; identity: string; reply: Reply; kind: string; urgent?: boolean }): Promise<boolean> {
    const held = input.urgent ? null : this.quietUntil(this.clock.now());
    return this.outbox.enqueue({ key: input.key, dest: { kind: "user", identity: input.identity }, reply: input.reply, kind: input.kind, ...(held ? { notBefore: held } : {}) });
  }

  /**
   * Queues an alert for every channel routed for its type, once per `key`
   * (a replayed event queues nothing). Non-urgent alerts in quiet hours are
   * held until they end.
   */
  async send(input: SendInput): Promise<SendResult> {
    const routes = input.routes ? routesOf(input.type, input.routes) : await this.routesFor(input.type);
    if (routes.length === 0) this.logger.warn("alert has no route", { type: input.type, key: input.key });
    const held = input.urgent ? null : this.quietUntil(this.clock.now());
    let queued = 0;
    for (const r of routes) {
      const ok = await this.outbox.enqueue({
        key: `${input.key}:${r.platform}:${r.channel}`,
        dest: { kind: "channel", platform: r.platform, channel: r.channel },
        reply: input.reply,
        kind: input.type,
        ...(held ? { notBefore: held } : {}),
      });
      if (ok) queued++;
    }
    return { queued, routes, ...(held ? { heldUntil: held } : {}) };
  }
}

/** The channels of `type` among the routes `all` (as listed), those turned off left out. */
function routesOf(type: AlertType, all: readonly ListedRoute[]): AlertRoute[] {
  return all.filter((r) => r.type === type && !r.off).map(({ type: t, platform, channel }) => ({ type: t, platform, channel }));
}
