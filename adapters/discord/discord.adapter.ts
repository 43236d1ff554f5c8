import {
  Client,
  Events,
  GatewayIntentBits,
  InteractionType,
  MessageFlags,
  RateLimitError,
  Routes,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type CommandInteractionOption,
  type APIActionRowComponent,
  type APIButtonComponentWithCustomId,
  type APIEmbed,
  type APIMessage,
  type Interaction,
  type RESTOptions,
} from "discord.js";
import { createRequire } from "node:module";
import { ConfigError, type Config, type DiscordConfig } from "../../src/config.js";
import type { Core, Invocation } from "../../src/core/core.js";
import { Formatter } from "../../src/core/format.js";
import { parseIdentity } from "../../src/core/identity.js";
import type { Logger } from "../../src/core/logger.js";
import { translator, type Locale, type Translate } from "../../src/core/messages.js";
import { RetryAfterError, UndeliverableError, type Deliverer, type Destination } from "../../src/core/outbound.js";
import { aboutSameSubject, isPrivate, type Reply } from "../../src/core/reply.js";
import { roleAtLeast, type Role } from "../../src/core/roles.js";
import { markerHash } from "../../src/services/marker.service.js";
import type { Services } from "../../src/services/services.js";
import type { Command } from "../../src/core/command.js";
import { escapeRegex } from "../../src/core/text.js";
import { shortId } from "../../src/core/ids.js";
import { suggest } from "./autocomplete.js";
import { buildCommandSet, commandLine, slashLine, type CommandSet } from "./commands.js";
import { embedSize, LIMITS, MORE_MESSAGES, renderReply, type DiscordMessage } from "./embeds.js";

/** What the Discord adapter needs. */
export interface DiscordAdapterOptions {
  core: Core;
  services: Services;
  commands: readonly Command[];
  config: Config;
  discord: DiscordConfig;
  logger: Logger;
  /** REST base URL; default DISCORD_API_URL, else Discord's. */
  api?: string;
  /** Defer the reply when the core has not answered within this time (Discord wants an answer within 3 s). */
  deferAfterMs?: number;
  /** Period of the outbox dispatch loop; 0 disables the loop (tests call {@link DiscordAdapter.dispatchOutbox}). */
  outboxIntervalMs?: number;
}

/** `discord:<user id>`, the identity of a Discord user. */
export const discordIdentity = (userId: string) => `discord:${userId}`;

/**
 * A Discord locale tag (`zh-CN`, `zh-TW`, `en-US`, `en-GB`…) as one of ours, by the rule the Slack
 * adapter follows: any English as en, any Chinese (zh-TW too) as zh-CN, as shopops has no
 * Traditional Chinese and a Traditional reader reads Simplified far better than English;
 * undefined otherwise (the shop's SHOP_LOCALE applies).
 */
function discordLocale(tag: string | undefined): Locale | undefined {
  if (!tag) return undefined;
  if (/^en(?:[-_]|$)/i.test(tag)) return "en";
  if (/^zh(?:[-_]|$)/i.test(tag)) return "zh-CN";
  return undefined;
}

/**
 * How long a DM sender's confirmed membership of an allowed server is taken as it is, without a
 * lookup: long enough for a burst (suggestions at each keystroke, the command, its buttons),
 * short enough that someone removed from the servers stops running commands by DM within it.
 */
const MEMBER_TTL_MS = 30_000;

/**
 * The Discord adapter: registers the application commands generated from the
 * registry, turns slash commands, buttons and autocomplete into core
 * invocations, renders replies as embeds, and delivers outbox messages.
 * It never decides permissions: guild roles are passed to the core as a
 * platform role, and the core checks it like any other.
 */
/** A connection pool of the undici that @discordjs/rest itself loads (the same copy and version). */
function ownAgent(): NonNullable<RESTOptions["agent"]> {
  // Resolved as discord.js resolves it: its @discordjs/rest, and that package's undici.
  const rest = createRequire(import.meta.resolve("discord.js")).resolve("@discordjs/rest");
  const undici = createRequire(rest)("undici") as { Agent: new () => NonNullable<RESTOptions["agent"]> };
  return new undici.Agent();
}

export class DiscordAdapter {
  readonly client: Client;
  readonly deliverer: DiscordDeliverer;
  readonly commandSet: CommandSet;
  private readonly log: Logger;
  private stopLoop: (() => void) | undefined;
  /** The message each button press carried, by interaction id, from the raw gateway packet until the press is handled. */
  private readonly carried = new Map<string, APIMessage>();
  /** The server membership lookups made for a DM interaction (by server id), so its roles are not asked for twice. */
  private readonly lookups = new WeakMap<Interaction, Map<string, Promise<string[] | "not_member" | "unknown">>>();
  /** DM senders whose membership of an allowed server was confirmed, with when that stops counting (Date.now() ms). */
  private readonly confirmed = new Map<string, number>();

  constructor(private readonly opts: DiscordAdapterOptions) {
    this.log = opts.logger.child({ component: "discord" });
    // The picker in the shop's language, as replies to members in neither English nor Chinese are.
    this.commandSet = buildCommandSet(opts.commands, opts.config.locale);
    const api = opts.api ?? opts.discord.apiUrl;
    this.client = new Client({
      intents: [GatewayIntentBits.Guilds],
      rest: {
        ...(api ? { api } : {}),
        // Short waits are absorbed by discord.js's buckets; long ones go back to the outbox.
        rejectOnRateLimit: (d) => d.retryAfter > 5_000,
        // discord.js's own connection pool: otherwise it sends through the process-wide one,
        // which whichever undici loads first creates, and Slack's Socket Mode brings another
        // major version whose pool cannot send discord.js's uploads ("action is not a function").
        agent: ownAgent(),
      },
    });
    this.deliverer = new DiscordDeliverer(this.client, (reply) => this.render(reply, this.opts.config.locale), translator(opts.config.locale));
    // The message a button press carried, as Discord sent it. discord.js keeps only the channel's
    // cached Message, which every later interaction on that message rewrites: a press still
    // waiting on the database would otherwise be judged on a later rendering of its message.
    this.client.on(Events.Raw, (packet: { t?: string; d?: { id?: string; type?: number; message?: APIMessage } }) => {
      const d = packet.t === "INTERACTION_CREATE" ? packet.d : undefined;
      if (d?.type !== InteractionType.MessageComponent || !d.id || !d.message) return;
      this.carried.set(d.id, d.message);
      // An interaction discord.js never emits (a kind it drops) is not taken: keep the latest few.
      if (this.carried.size > 100) this.carried.delete(this.carried.keys().next().value!);
    });
    this.client.on(Events.InteractionCreate, (i) => {
      // When it reached this process (local clock), for the 3-second budget.
      const arrivedAt = Date.now();
      // Taken now, before anything awaits (a later interaction may rewrite the cached message).
      const pressed = i.isButton() ? this.pressedMessage(i) : undefined;
      this.handle(i, arrivedAt, pressed).catch((e: unknown) => this.failed(i, e));
    });
    this.client.on(Events.Error, (e) => this.log.error("client error", { error: e }));
    this.client.on(Events.ShardDisconnect, (ev, shard) => this.log.warn("gateway disconnected", { shard, code: ev.code }));
    this.client.on(Events.ShardResume, (shard, replayed) => this.log.info("gateway resumed", { shard, replayed }));
    this.client.on(Events.ShardReconnecting, (shard) => this.log.info("gateway reconnecting", { shard }));
  }

  /** Logs in, waits for READY, registers the commands if they changed, and starts the outbox loop. */
  async start(): Promise<{ user: string; registration: "registered" | "unchanged" }> {
    const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
    try {
      await this.client.login(this.opts.discord.token);
    } catch (e) {
      const status = (e as { status?: number }).status;
      const code = (e as { code?: string }).code;
      if (status === 401 || code === "TokenInvalid") {
        throw new ConfigError(["DISCORD_TOKEN: Discord refused this token; copy it again from the Developer Portal (your application → Bot → Reset Token)"]);
      }
      throw e;
    }
    await ready;
    this.log.info("connected to Discord", { user: this.client.user?.tag, application: this.opts.discord.applicationId });
    if (!this.opts.discord.guildIds.length) {
      this.log.warn("no DISCORD_GUILD_IDS: any server the bot is added to can run its viewer commands; set DISCORD_GUILD_IDS and turn off Public Bot in the Developer Portal");
    }
    const registration = await this.registerCommands();
    const every = this.opts.outboxIntervalMs ?? 2_000;
    if (every > 0) this.stopLoop = this.opts.services.outbox.startLoop(this.deliverer, every);
    return { user: this.client.user?.tag ?? "?", registration };
  }

  /** Stops the outbox loop and closes the gateway connection. */
  async stop(): Promise<void> {
    this.stopLoop?.();
    await this.client.destroy();
  }

  /**
   * One bulk PUT of the generated commands, to the configured server or
   * globally, only when their hash differs from the one stored in `meta`.
   */
  async registerCommands(): Promise<"registered" | "unchanged"> {
    const { applicationId, guildId } = this.opts.discord;
    const markerId = `discord.commands:${applicationId}:${guildId ?? "global"}`;
    const meta = this.opts.services.store.meta;
    // Global commands left from before DISCORD_GUILD_ID: removed whether or not this server's
    // commands change; a failed removal is tried again at the next start (its marker stays).
    if (guildId) await this.dropGlobalCommands().catch((e: unknown) => this.log.warn("could not remove the old global commands; tried again at the next start", { error: e }));
    const prev = await meta.findById(markerId).lean();
    if ((prev?.value as { hash?: string } | undefined)?.hash === this.commandSet.hash) {
      this.log.info("application commands unchanged", { count: this.commandSet.definitions.length });
      return "unchanged";
    }
    const route = guildId ? Routes.applicationGuildCommands(applicationId, guildId) : Routes.applicationCommands(applicationId);
    try {
      await this.client.rest.put(route, { body: this.commandSet.definitions });
    } catch (e) {
      // Refused for good (a wrong server id, or the bot invited without the commands scope):
      // start-up stops with what to fix, not a stack trace.
      const status = (e as { status?: number }).status;
      if (status === 403 || status === 404 || status === 401) {
        const where = guildId ? `server ${guildId} (DISCORD_GUILD_ID)` : "all servers (no DISCORD_GUILD_ID)";
        throw new ConfigError([
          `Discord refused to register the slash commands for ${where}: ${(e as Error).message}. Check DISCORD_GUILD_ID and DISCORD_APPLICATION_ID, and invite the bot with the "bot" and "applications.commands" scopes.`,
        ]);
      }
      throw e;
    }
    await meta.updateOne({ _id: markerId }, { $set: { value: { hash: this.commandSet.hash, at: this.opts.services.clock.now() } } }, { upsert: true });
    this.log.info("application commands registered", { count: this.commandSet.definitions.length, scope: guildId ? "guild" : "global" });
    return "registered";
  }

  /**
   * After moving to one server (DISCORD_GUILD_ID set), the global commands this bot registered
   * before would show every command twice in that server's picker, and in every other server:
   * they are removed (only when our marker says we registered them).
   */
  private async dropGlobalCommands(): Promise<void> {
    const { applicationId } = this.opts.discord;
    const globalMarker = `discord.commands:${applicationId}:global`;
    const meta = this.opts.services.store.meta;
    if (!(await meta.exists({ _id: globalMarker }))) return;
    await this.client.rest.put(Routes.applicationCommands(applicationId), { body: [] });
    await meta.deleteOne({ _id: globalMarker });
    this.log.info("global application commands removed (commands are now registered per server)");
  }

  /** Delivers due outbox messages for Discord (one round). */
  async dispatchOutbox(): Promise<{ sent: number; failed: number }> {
    return this.opts.services.outbox.dispatch(this.deliverer);
  }

  /** A reply rendered in `locale`; a table too long for one message goes on in up to `followUps` more. */
  private render(reply: Reply, locale: Locale, followUps = 0): DiscordMessage {
    const { config, services } = this.opts;
    return renderReply(reply, { fmt: new Formatter(locale, config.timeZone, config.currency), now: services.clock.now(), t: translator(locale), slash: (line) => slashLine(this.commandSet, line), followUps });
  }

  /**
   * Sends the follow-ups of an answer (a table's rows its message could not hold), as visible as
   * the answer: an interaction takes follow-up messages for 15 minutes, however it was answered.
   */
  private async sendMore(i: ChatInputCommandInteraction | ButtonInteraction, more: readonly DiscordMessage[] | undefined, ephemeral: boolean): Promise<void> {
    for (const m of more ?? []) await i.followUp({ embeds: m.embeds, ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) });
  }

  /**
   * The message a button press was made on, as its own interaction carried it: the raw payload,
   * or (when the raw packet was not seen) discord.js's cached copy, read as the interaction is
   * emitted, which is the moment that payload has just been written into it.
   */
  private pressedMessage(i: ButtonInteraction): PressedMessage {
    const raw = this.carried.get(i.id);
    this.carried.delete(i.id);
    if (raw) {
      return { rows: raw.components ?? [], embeds: raw.embeds ?? [], content: raw.content ?? "", edited: raw.edited_timestamp ? Date.parse(raw.edited_timestamp) : null };
    }
    const m = i.message;
    const json = (x: unknown) => (typeof (x as { toJSON?: unknown }).toJSON === "function" ? (x as { toJSON: () => unknown }).toJSON() : x);
    return { rows: (m.components as unknown[]).map(json), embeds: m.embeds.map((e) => json(e) as APIEmbed), content: m.content, edited: m.editedTimestamp ?? null };
  }

  private async handle(i: Interaction, arrivedAt: number, pressed?: PressedMessage): Promise<void> {
    // With an allowlist, interactions from other servers (the bot added elsewhere: Public Bot is
    // on by default) run nothing, not even a lookup. DMs carry no server and pass.
    const allowed = this.opts.discord.guildIds;
    if (i.guildId && allowed.length && !allowed.includes(i.guildId)) return this.refuseGuild(i);
    // A DM carries no server: with an allowlist, its sender must be a member of an allowed one
    // (anyone who can reach the bot in a DM would otherwise run what a viewer may).
    if (!i.guildId && allowed.length) {
      const member = await this.memberOfAny(allowed, i.user.id, i);
      if (member !== "member") return this.refuseGuild(i, member === "unknown" ? "discord.dm_unconfirmed" : "discord.dm_refused");
    }
    if (i.isAutocomplete()) return this.autocomplete(i);
    if (i.isChatInputCommand()) return this.slash(i, arrivedAt);
    if (i.isButton()) return this.button(i, arrivedAt, pressed ?? this.pressedMessage(i));
  }

  /**
   * An interaction that could not be answered as it should (Discord refused the reply, or the
   * adapter failed): the member is told privately that it went wrong on our side, with a
   * reference the log line carries, rather than left with Discord's "did not respond".
   */
  private async failed(i: Interaction, error: unknown): Promise<void> {
    const ref = shortId(10);
    this.log.error("interaction failed", { interaction: i.id, ref, error });
    try {
      if (i.isAutocomplete()) return void (i.responded ? undefined : await i.respond([]));
      if (!i.isRepliable()) return;
      const body = { content: translator(discordLocale(i.locale) ?? this.opts.config.locale)("error.generic", { ref }), flags: MessageFlags.Ephemeral } as const;
      await (i.deferred || i.replied ? i.followUp(body) : i.reply(body));
    } catch (e) {
      this.log.warn("could not tell the member that the interaction failed", { interaction: i.id, ref, error: e });
    }
  }

  /** Answers an interaction from a server not in DISCORD_GUILD_IDS: no suggestions, or a short private refusal. */
  private async refuseGuild(i: Interaction, why: "discord.guild_refused" | "discord.dm_refused" | "discord.dm_unconfirmed" = "discord.guild_refused"): Promise<void> {
    this.log.warn(
      i.guildId ? "interaction from a server not in DISCORD_GUILD_IDS refused" : why === "discord.dm_unconfirmed" ? "DM interaction refused: membership of DISCORD_GUILD_IDS could not be confirmed in time" : "DM interaction from someone in none of DISCORD_GUILD_IDS refused",
      { guild: i.guildId, user: i.user.id },
    );
    if (i.isAutocomplete()) return void (await i.respond([]));
    if (!i.isRepliable()) return;
    await i.reply({ content: translator(discordLocale(i.locale) ?? this.opts.config.locale)(why), flags: MessageFlags.Ephemeral });
  }

  /** The invocation for an interaction's user: identity, name, language and the role their guild roles grant. */
  private async invocation(i: ChatInputCommandInteraction | ButtonInteraction | AutocompleteInteraction, text: string): Promise<Invocation> {
    const member = i.member;
    let roleIds: string[] = !member ? [] : Array.isArray(member.roles) ? (member.roles as string[]) : [...member.roles.cache.keys()];
    // A press in a DM (an SLA reminder's Resolve button) carries no member: the roles come from
    // the configured server, so DISCORD_ROLE_MAP applies there too.
    if (!member && this.opts.discord.guildId) roleIds = await this.guildRoles(this.opts.discord.guildId, i.user.id, i);
    let platformRole: Role | undefined;
    for (const id of roleIds) {
      const r = this.opts.discord.roleMap[id];
      if (r && (!platformRole || roleAtLeast(r, platformRole))) platformRole = r;
    }
    const locale = discordLocale(i.locale);
    return {
      identity: discordIdentity(i.user.id),
      platform: "discord",
      text,
      displayName: i.user.globalName ?? i.user.username,
      ...(locale ? { locale } : {}),
      ...(platformRole ? { platformRole } : {}),
    };
  }

  /**
   * A user's membership of a server, looked up fresh (never from the cache: the bot hears no role
   * changes, having no members intent, and a role taken away must stop counting at once) within
   * 800 ms, to stay inside Discord's 3 seconds: their role ids; "not_member" when Discord says so
   * (Unknown Member or User); "unknown" when the lookup fails otherwise or is slow.
   */
  private async membership(guildId: string, userId: string): Promise<string[] | "not_member" | "unknown"> {
    const lookup = (async () => {
      const guild = await this.client.guilds.fetch(guildId);
      const m = await guild.members.fetch({ user: userId, force: true });
      return [...m.roles.cache.keys()];
    })().catch((e: unknown): "not_member" | "unknown" => {
      const code = (e as { code?: number })?.code;
      if (code === 10007 || code === 10013) return "not_member";
      this.log.debug("server membership lookup failed", { error: e });
      return "unknown";
    });
    const timeout = new Promise<"unknown">((resolve) => setTimeout(() => resolve("unknown"), 800).unref());
    return Promise.race([lookup, timeout]);
  }

  /**
   * The role ids of a user in a server, or none (not a member, or not known in time: the core
   * refuses; pressing again works). The DM check's lookup of this server for this interaction is
   * reused only when it gave the roles: one that was slow or failed is asked again, or a member
   * would be taken as having no roles where a fresh lookup could have said which.
   */
  private async guildRoles(guildId: string, userId: string, i: Interaction): Promise<string[]> {
    const asked = await this.lookups.get(i)?.get(guildId);
    if (Array.isArray(asked)) return asked;
    const m = await this.membership(guildId, userId);
    return Array.isArray(m) ? m : [];
  }

  /**
   * "member" when Discord confirms the user is in one of `guildIds`; "not_member" when it says
   * they are in none (Unknown Member); else "unknown" (a lookup that failed otherwise or was slow).
   * A membership confirmed in the last 30 s is taken as it is (no lookup: the suggestions asked at
   * each keystroke, a command, then its buttons come within seconds; each lookup is a forced REST
   * call, rate-limited); a refusal is never remembered. Otherwise DISCORD_GUILD_ID (where the
   * roles come from, so its answer is reused for them) is asked first, alone; only when it has not
   * confirmed within 300 ms, or says not a member, are the other servers asked, all at once (the
   * first to confirm decides), so the usual DM costs one lookup and the answer takes 300 ms plus
   * one lookup's 800 ms at most however many servers are listed. Fails closed: an unconfirmed
   * sender is refused with "try again", never taken for a member, or anyone could DM viewer
   * commands while lookups are slow.
   */
  private async memberOfAny(guildIds: readonly string[], userId: string, i: Interaction): Promise<"member" | "not_member" | "unknown"> {
    const now = Date.now();
    if ((this.confirmed.get(userId) ?? 0) > now) return "member";
    const home = this.opts.discord.guildId;
    const first = home && guildIds.includes(home) ? home : guildIds[0]!;
    const asked = new Map([[first, this.membership(first, userId)]]);
    this.lookups.set(i, asked);
    let timer: NodeJS.Timeout | undefined;
    const early = await Promise.race([asked.get(first)!, new Promise<"pending">((resolve) => (timer = setTimeout(() => resolve("pending"), 300)))]);
    clearTimeout(timer);
    if (!Array.isArray(early)) for (const id of guildIds) if (!asked.has(id)) asked.set(id, this.membership(id, userId));
    const answer = await new Promise<"member" | "not_member" | "unknown">((resolve) => {
      let left = asked.size;
      let unknown = false;
      for (const lookup of asked.values()) {
        // membership() never rejects: a failure is "unknown".
        void lookup.then((m) => {
          if (Array.isArray(m)) return resolve("member");
          if (m === "unknown") unknown = true;
          if (--left === 0) resolve(unknown ? "unknown" : "not_member");
        });
      }
    });
    if (answer === "member") {
      for (const [id, until] of this.confirmed) if (until <= now) this.confirmed.delete(id); // kept small: the last 30 s's senders
      this.confirmed.set(userId, Date.now() + MEMBER_TTL_MS);
    }
    return answer;
  }

  /** Claims a marker (the shared exactly-once markers); false when it already exists (a replay or a double click). */
  private async mark(id: string, by: string, what: string): Promise<boolean> {
    try {
      return (await this.opts.services.markers.claim(id, by, what)).claimed;
    } catch (e) {
      // The marker could not be written (the database unreachable): the interaction is still
      // answered (the core says what failed, with its reference) rather than left to time out;
      // a replay is then not caught.
      this.log.warn("interaction marker not written; answering without the replay check", { id, error: e });
      return true;
    }
  }


  /**
   * Discord's 3 seconds, kept wherever the work is: `defer` is called once `deferAfterMs` have
   * passed since the interaction arrived (marker writes, role lookups and the core all count),
   * unless the interaction was answered first. {@link Deadline.settle} then says how to answer.
   */
  private deadline(i: { createdTimestamp: number; id: string }, arrivedAt: number, defer: () => Promise<unknown>): Deadline {
    // Counted from the interaction's creation, as far as it can be trusted: the snowflake's age
    // is bounded by the time since it arrived here plus a second of transit, so a bot clock
    // running ahead of Discord's does not defer everything.
    const now = Date.now();
    const sinceArrival = now - arrivedAt;
    const age = Math.min(Math.max(sinceArrival, now - i.createdTimestamp), sinceArrival + 1_000);
    const wait = Math.max(0, (this.opts.deferAfterMs ?? 1_500) - age);
    return new Deadline(wait, defer, (error) => this.log.warn("could not defer the interaction", { interaction: i.id, error }));
  }

  private async slash(i: ChatInputCommandInteraction, arrivedAt: number): Promise<void> {
    const sub = i.options.getSubcommand(false);
    const key = sub ? `${i.commandName} ${sub}` : i.commandName;
    const route = this.commandSet.routes.get(key);
    // An unknown name comes from a stale registration: the core explains it like a typo.
    const raw: readonly CommandInteractionOption[] = sub ? (i.options.data[0]?.options ?? []) : i.options.data;
    const values = new Map<string, string | number | boolean>();
    for (const o of raw) if (o.value !== undefined && o.value !== null) values.set(o.name, o.value);
    const text = route ? commandLine(route, values) : key;
    // Work that often takes longer than the deferral's wait (the digest: its queries and its chart)
    // is acknowledged before it starts, and privately: the digest is its reader's own, so no public
    // "thinking…" shows in the channel for an answer only its reader sees.
    const first = !!route && DEFER_FIRST.has(route.command.name);
    const deadline = this.deadline(i, arrivedAt, () => i.deferReply(first ? { flags: MessageFlags.Ephemeral } : {}));
    if (route?.command.mutates && !(await this.mark(`discord.ix:${i.id}`, discordIdentity(i.user.id), text))) return deadline.cancel();
    const inv = await this.invocation(i, text);
    if (first) await deadline.now();
    const result = await this.opts.core.invoke(inv);
    const deferred = await deadline.settle();
    // A table longer than one message goes on in follow-ups, so no row before the next page's command goes unseen.
    const msg = this.render(result.reply, inv.locale ?? this.opts.config.locale, MORE_MESSAGES);
    const body = { embeds: msg.embeds, components: msg.components, files: msg.files };
    if (!deferred) {
      await i.reply({ ...body, ...(msg.ephemeral ? { flags: MessageFlags.Ephemeral } : {}) });
    } else if (msg.ephemeral !== first) {
      // The "thinking…" placeholder keeps its visibility: replaced by a follow-up as visible as the answer.
      await i.deleteReply();
      await i.followUp({ ...body, ...(msg.ephemeral ? { flags: MessageFlags.Ephemeral } : {}) });
    } else {
      await i.editReply(body);
    }
    await this.sendMore(i, msg.more, msg.ephemeral);
  }

  private async button(i: ButtonInteraction, arrivedAt: number, pressed: PressedMessage): Promise<void> {
    const text = i.customId;
    // Judged on the message as this press carried it, never on i.message after an await: that is
    // the channel's cached copy, which a later interaction on the message rewrites.
    const shown = buttonsOf(pressed.rows).find((b) => b.id === text);
    // Only a button the message shows: a crafted custom id runs nothing (defence in depth).
    if (!shown) {
      this.log.warn("button press with a custom id the message does not show refused", { user: i.user.id, message: i.message.id });
      await i.reply({ content: translator(discordLocale(i.locale) ?? this.opts.config.locale)("discord.button_unknown"), flags: MessageFlags.Ephemeral });
      return;
    }
    const deadline = this.deadline(i, arrivedAt, () => i.deferUpdate());
    // A replayed interaction stops here, before the role lookup (a forced member fetch in a DM).
    if (!(await this.mark(`discord.ix:${i.id}`, discordIdentity(i.user.id), text))) return deadline.cancel();
    // The presser's language, as the invocation will carry it.
    const locale = discordLocale(i.locale) ?? this.opts.config.locale;
    const t = translator(locale);
    /** A private answer to the presser alone, the message left as it is (then its table's follow-ups, as private). */
    const privately = async (body: { content?: string; embeds?: APIEmbed[]; components?: DiscordMessage["components"]; files?: DiscordMessage["files"] }, more?: DiscordMessage[]) => {
      await ((await deadline.settle()) ? i.followUp({ ...body, flags: MessageFlags.Ephemeral }) : i.reply({ ...body, flags: MessageFlags.Ephemeral }));
      await this.sendMore(i, more, true);
    };
    // One press per person per rendering of the message: a double click on one rendering counts
    // once, while a button the message shows again after an update (a two-manager refund's
    // Approve, kept for the second approval) is a new button, as Slack's fresh block_id makes it.
    const pressPrefix = `discord.press:${i.message.id}:${i.user.id}:${markerHash(text, 24)}:`;
    const pressId = `${pressPrefix}${renderingOf(pressed)}`;
    // A button shown disabled cannot be pressed in Discord: this is the second click of a double
    // click that reached Discord after the update disabled it, someone else's press that raced
    // that update (or a crafted press). Nothing runs; the presser is told which.
    if (shown.disabled) {
      const mine = await this.opts.services.store.markers.exists({ _id: { $regex: `^${escapeRegex(pressPrefix)}` } }).catch(() => null);
      this.log.info("press of a disabled button ignored", { user: i.user.id, message: i.message.id });
      return privately({ content: t(mine ? "discord.already_pressed" : "discord.button_used") });
    }
    const inv = await this.invocation(i, text);
    // Refused, bad input or failed: nothing changed, so the claim is given back and pressing
    // again later (say, once granted the role) is allowed.
    // The marker could not be written (the database unreachable): answered all the same.
    const press = await this.opts.services.markers.once(pressId, inv.identity, text, () => this.opts.core.invoke(inv), (result) => result.outcome === "ok", {
      unclaimed: (error) => this.log.warn("press marker not written; answering without the double-click check", { error }),
    });
    if (!press.claimed) return privately({ content: t("discord.already_pressed") });
    const result = press.result;
    const label = shown.label ?? text;
    // A refusal, or a private outcome on a shared message (a reminder that a second manager is
    // needed, say), goes to the presser alone; the shared message stays as it is. A message only
    // its presser sees (a coupon preview) shows the outcome in place, so Confirm does not stay
    // live after Cancel.
    const ownMessage = i.message.flags.has(MessageFlags.Ephemeral);
    if (result.outcome !== "ok" || (isPrivate(result.reply) && !ownMessage)) {
      const msg = this.render(result.reply, locale, MORE_MESSAGES);
      // A shared card whose subject was decided or expired meanwhile: its buttons about it are
      // disabled, with a line saying why, for everyone; the answer goes to the presser alone.
      if (result.reply.settled !== undefined && !ownMessage) {
        const embeds = [...i.message.embeds.map((x) => x.toJSON() as APIEmbed).slice(-9), { description: result.reply.settled }];
        const update = { embeds, components: disableAbout(i.message.components as unknown[], text) };
        await ((await deadline.settle()) ? i.editReply(update) : i.update(update));
        await i.followUp({ embeds: msg.embeds, components: msg.components, files: msg.files, flags: MessageFlags.Ephemeral });
        return this.sendMore(i, msg.more, true);
      }
      return privately({ embeds: msg.embeds, components: msg.components, files: msg.files }, msg.more);
    }
    // Done: the message shows the outcome and who acted. Its buttons become the outcome's own
    // (a two-manager refund's card keeps Approve for the second), or, when it has none, the
    // buttons about the same thing as the pressed one are disabled and the others stay (a
    // low-stock alert's other products can still be snoozed).
    const acted = t("discord.acted", { outcome: t("discord.outcome.ok"), label, user: inv.displayName ?? i.user.username });
    const msg = this.render({ ...result.reply, context: [...(result.reply.context ?? []), acted] }, locale, MORE_MESSAGES);
    // Discord counts all of a message's embeds together: the outcome, then as many of the
    // earlier embeds as fit, the latest ones kept.
    let room = LIMITS.total - msg.embeds.reduce((n, e) => n + embedSize(e), 0);
    const kept: APIEmbed[] = [];
    for (const e of i.message.embeds.map((x) => x.toJSON() as APIEmbed).slice(-9).reverse()) {
      if (embedSize(e) > room) break;
      kept.unshift(e);
      room -= embedSize(e);
    }
    const components = result.reply.actions?.length ? msg.components : disableAbout(i.message.components as unknown[], text);
    const body = { embeds: [...kept, ...msg.embeds], components, files: msg.files };
    await ((await deadline.settle()) ? i.editReply(body) : i.update(body));
    // A table the updated message could not hold goes on below it, seen by whoever sees the message.
    await this.sendMore(i, msg.more, ownMessage);
  }

  private async autocomplete(i: AutocompleteInteraction): Promise<void> {
    const sub = i.options.getSubcommand(false);
    const route = this.commandSet.routes.get(sub ? `${i.commandName} ${sub}` : i.commandName);
    const focused = i.options.getFocused(true);
    const arg = route?.options.find((o) => o.option === focused.name)?.arg;
    // Suggestions show stored ids and text (complaints, orders): only to those who may run the command.
    const allowed = route && arg ? await this.opts.core.mayRun(await this.invocation(i, ""), route.command.name) : false;
    const choices = allowed ? await suggest(this.opts.services.store, route!.command.name, arg!, String(focused.value)) : [];
    await i.respond(choices);
  }
}

type RawButton = { customId?: string; custom_id?: string; label?: string | null; disabled?: boolean | null; data?: { custom_id?: string; label?: string; disabled?: boolean } };
type RawRow = { components?: RawButton[] };

/** The components of a message's rows, in order, as custom id, label (either may be missing) and whether it is disabled. */
function buttonsOf(rows: unknown[]): { id: string | undefined; label: string | undefined; disabled: boolean }[] {
  return (rows as RawRow[]).flatMap((row) =>
    (row.components ?? []).map((c) => ({ id: c.customId ?? c.custom_id ?? c.data?.custom_id, label: (c.label ?? c.data?.label) || undefined, disabled: !!(c.disabled ?? c.data?.disabled) })),
  );
}

/** A message as one button press carried it (API JSON): its rows, embeds, text and last edit (ms). */
interface PressedMessage {
  rows: unknown[];
  embeds: APIEmbed[];
  content: string;
  edited: number | null;
}

/**
 * One rendering of a message, as a short hash: when it was last edited, its text, its embeds'
 * words and its buttons. Two presses on the message as it stood (a double click) share it; the
 * message as the bot updated it after a press has another.
 */
function renderingOf(message: PressedMessage): string {
  // Words only: image and attachment URLs carry signatures Discord renews.
  const embeds = message.embeds.map((j) => [j.title, j.description, j.fields, j.footer?.text, j.author?.name]);
  // A row's components last, as discord.js writes a row out (the same hash from either source).
  const rows = (message.rows as { components?: unknown }[]).map(({ components, ...row }) => (components === undefined ? row : { ...row, components }));
  return markerHash(JSON.stringify([message.edited, message.content, embeds, rows]), 16);
}

/**
 * Commands that often take longer than the deferral's wait and answer privately: the digest
 * (its day's figures and a 14-day chart). Deferred privately before they start.
 */
const DEFER_FIRST: ReadonlySet<string> = new Set(["digest"]);

/**
 * The acknowledgement of one interaction: `defer` runs once `wait` ms have passed, unless the
 * interaction was answered (or dropped) first. JavaScript runs one callback at a time, so the
 * timer and {@link settle} cannot both answer.
 */
class Deadline {
  private state: "open" | "deferring" | "done" = "open";
  private readonly timer: NodeJS.Timeout;
  private deferral: Promise<boolean> | undefined;

  constructor(
    wait: number,
    private readonly defer: () => Promise<unknown>,
    private readonly failed: (error: unknown) => void,
  ) {
    this.timer = setTimeout(() => void this.start(), wait);
  }

  private start(): Promise<boolean> | undefined {
    if (this.state !== "open") return this.deferral;
    clearTimeout(this.timer);
    this.state = "deferring";
    this.deferral = this.defer().then(
      () => true,
      (e: unknown) => (this.failed(e), false),
    );
    return this.deferral;
  }

  /** Defers at once and waits until Discord has it (long work is about to start). */
  async now(): Promise<void> {
    await this.start();
  }

  /** Nothing will be sent (a replayed interaction, answered the first time). */
  cancel(): void {
    clearTimeout(this.timer);
    if (this.state === "open") this.state = "done";
  }

  /**
   * Stops the timer and says how to answer: true when the interaction was deferred (answer with
   * an edit or a follow-up), false when it was not (answer it directly, now).
   */
  async settle(): Promise<boolean> {
    clearTimeout(this.timer);
    if (this.state === "open") {
      this.state = "done";
      return false;
    }
    return (await this.deferral) ?? false;
  }
}

/**
 * The message's buttons with those about the same thing as `pressed` disabled: the same object
 * (`R-…`, `SKU-1`, `C-…`, the third word of its command), so a finished action cannot be
 * pressed again while another product's or request's buttons stay usable.
 */
function disableAbout(rows: unknown[], pressed: string): APIActionRowComponent<APIButtonComponentWithCustomId>[] {
  const about = (id: string) => aboutSameSubject(id, pressed);
  // The message's rows as they are (style, and buttons disabled by earlier presses stay so).
  const json = (rows as { toJSON?: () => unknown }[]).map((r) => (typeof r.toJSON === "function" ? r.toJSON() : r)) as APIActionRowComponent<APIButtonComponentWithCustomId>[];
  return json.map((row) => ({ ...row, components: (row.components ?? []).map((c) => (c.custom_id && about(c.custom_id) ? { ...c, disabled: true } : c)) }));
}

/**
 * Outbound for Discord: channel messages and DMs with embeds and PNG
 * attachments. discord.js queues requests in Discord's rate-limit buckets; a
 * long limit or any failure is thrown so the outbox retries later.
 */
export class DiscordDeliverer implements Deliverer {
  readonly platform = "discord" as const;

  constructor(
    private readonly client: Client,
    private readonly render: (reply: Reply) => DiscordMessage,
    /** The shop's language, for the failure an admin reads in `alerts list`. */
    private readonly t: Translate = translator("en"),
  ) {}

  async deliver(dest: Destination, reply: Reply): Promise<void> {
    const msg = this.render(reply);
    const body = { embeds: msg.embeds, components: msg.components, files: msg.files };
    try {
      if (dest.kind === "user") {
        const id = parseIdentity(dest.identity);
        if (id?.platform !== "discord") throw new Error(`not a Discord identity: ${dest.identity}`);
        const dm = await this.client.users.createDM(id.user);
        await dm.send(body);
        return;
      }
      const channel = await this.client.channels.fetch(dest.channel);
      if (!channel || !channel.isSendable()) throw new Error(`channel ${dest.channel} cannot receive messages`);
      await channel.send(body);
    } catch (e) {
      if (e instanceof RateLimitError) throw new RetryAfterError(e.retryAfter);
      // Cannot DM this user, unknown channel or user: retrying cannot help. (Missing access or
      // permissions stay retryable: an admin may fix them within the retries.)
      const code = (e as { code?: unknown }).code;
      if (typeof code === "number" && [50007, 10003, 10013].includes(code)) throw new UndeliverableError(`Discord error ${code}: ${(e as Error).message}`);
      // Missing Access / Missing Permissions in a channel: the admin reads this in `alerts list`
      // (and the logs) and must learn what to grant where, not only Discord's two words.
      if (dest.kind === "channel" && (code === 50001 || code === 50013)) {
        throw new Error(this.t("discord.channel_permissions", { channel: dest.channel, error: `${(e as Error).message}, ${code}` }), { cause: e });
      }
      throw e;
    }
  }
}
