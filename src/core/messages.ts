import * as admin from "../messages/admin.messages.js";
import * as complaint from "../messages/complaint.messages.js";
import * as core from "../messages/core.messages.js";
import * as slack from "../messages/slack.messages.js";
import * as order from "../messages/order.messages.js";
import * as digest from "../messages/digest.messages.js";
import * as discord from "../messages/discord.messages.js";
import * as ingest from "../messages/ingest.messages.js";
import * as jobs from "../messages/jobs.messages.js";
import * as stock from "../messages/stock.messages.js";
import * as refund from "../messages/refund.messages.js";
import * as coupon from "../messages/coupon.messages.js";
import * as notify from "../messages/notify.messages.js";

/**
 * The message catalog: every user-facing string, in English and Simplified
 * Chinese, one file per area under src/messages/ (each `en` with its `zh`).
 * Placeholders are `{name}`. Keys are prefixed by area so they never clash.
 */
const en = { ...core.en, ...stock.en, ...admin.en, ...refund.en, ...coupon.en, ...slack.en, ...order.en, ...complaint.en, ...digest.en, ...discord.en, ...ingest.en, ...jobs.en, ...notify.en } as const;

/** A key of the message catalog. */
export type MessageKey = keyof typeof en;

const zh: Record<MessageKey, string> = { ...core.zh, ...stock.zh, ...admin.zh, ...refund.zh, ...coupon.zh, ...slack.zh, ...order.zh, ...complaint.zh, ...digest.zh, ...discord.zh, ...ingest.zh, ...jobs.zh, ...notify.zh };

/** Supported locales. */
export type Locale = "en" | "zh-CN";

const CATALOG: Record<Locale, Record<MessageKey, string>> = { en, "zh-CN": zh };

/** Parameters interpolated into a message. */
export type MessageParams = Record<string, string | number>;

/**
 * Looks up `key` in `locale` and fills its `{placeholders}`. A key built from stored data that
 * names no message (a category written before it was checked) gives its last part, the value
 * itself, rather than failing the whole reply.
 */
export function t(locale: Locale, key: MessageKey, params: MessageParams = {}): string {
  const template = CATALOG[locale][key] ?? (en[key] as string | undefined) ?? key.slice(key.lastIndexOf(".") + 1);
  return (
    template
      // `{days|day|days}`: the word for the count in `days` (English plurals: "1 day", "2 days").
      .replace(/\{(\w+)\|([^|{}]*)\|([^|{}]*)\}/g, (m, name: string, one: string, other: string) => (name in params ? (String(params[name]).trim() === "1" ? one : other) : m))
      .replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m))
  );
}

/** A translator bound to one locale. */
export type Translate = (key: MessageKey, params?: MessageParams) => string;

/** Returns a {@link Translate} for `locale`. */
export function translator(locale: Locale): Translate {
  return (key, params) => t(locale, key, params);
}

/** True if `key` is in the catalog (for keys built at run time). */
export function isMessageKey(key: string): key is MessageKey {
  return key in en;
}
