import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../core/clock.js";
import { shortId } from "../core/ids.js";
import { API_SCOPES } from "../store/ingest.model.js";
import type { ApiKeyDoc, Store } from "../store/models.js";

/** A scope of an API key. */
export type ApiScope = (typeof API_SCOPES)[number];

/** A key as callers see it (never the token or its hash). */
export interface ApiKeyView {
  id: string;
  label: string;
  scopes: ApiScope[];
  createdBy: string;
  createdAt: Date;
  revokedAt?: Date;
  /** Who revoked it (keys revoked before this was kept have none). */
  revokedBy?: string;
  lastUsedAt?: Date;
}

/** A key revoked before: when and by whom (keys revoked before the revoker was kept have none). */
export interface AlreadyRevoked {
  already: true;
  revokedAt?: Date;
  revokedBy?: string;
}

/** The caller of an authenticated request. */
export interface ApiCaller {
  id: string;
  label: string;
  scopes: ReadonlySet<string>;
}

const TOKEN = /^shopops_(k[0-9A-Z]{10})_([A-Za-z0-9_-]{43})$/;
/** How long a verified key is trusted without reading it again (revocations in this process are immediate). */
const CACHE_MS = 5_000;
/** lastUsedAt is written at most this often per key. */
const TOUCH_MS = 60_000;

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

/**
 * API keys of the ingestion API: created, listed and revoked by admins; only the sha256 of
 * a token is stored, and the token is returned once, at creation.
 */
export class ApiKeyService {
  private readonly cache = new Map<string, { caller: ApiCaller; hash: string; until: number }>();
  private readonly touched = new Map<string, number>();
  /** Revocations made by this process: a key read before one landed is not cached (see authenticate). */
  private revocations = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Creates a key; the returned token is not stored anywhere and cannot be shown again. */
  async create(label: string, scopes: ApiScope[], by: string): Promise<{ id: string; token: string }> {
    const id = `k${shortId(10)}`;
    const token = `shopops_${id}_${randomBytes(32).toString("base64url")}`;
    await this.store.apiKeys.create({ _id: id, label, hash: sha256(token), scopes: [...new Set(scopes)], createdBy: by, createdAt: this.clock.now() });
    return { id, token };
  }

  /** The ids of the keys not revoked that have this label, but `except` (labels need not be unique), oldest first. */
  async activeWithLabel(label: string, except: string): Promise<string[]> {
    const docs = await this.store.apiKeys.find({ label, _id: { $ne: except }, revokedAt: { $exists: false } }).sort({ createdAt: 1 }).select({ _id: 1 }).lean();
    return docs.map((d) => d._id);
  }

  /** Every key, newest first. */
  async list(): Promise<ApiKeyView[]> {
    const docs = await this.store.apiKeys.find({}).sort({ createdAt: -1 }).lean<ApiKeyDoc[]>();
    return docs.map((d) => ({
      id: d._id,
      label: d.label,
      scopes: d.scopes as ApiScope[],
      createdBy: d.createdBy,
      createdAt: d.createdAt,
      ...(d.revokedAt ? { revokedAt: d.revokedAt } : {}),
      ...(d.revokedBy ? { revokedBy: d.revokedBy } : {}),
      ...(d.lastUsedAt ? { lastUsedAt: d.lastUsedAt } : {}),
    }));
  }

  /**
   * Revokes a key: `revoked`, `not_found`, or {@link AlreadyRevoked} (revoked before: when and by
   * whom, as `apikey list` shows it).
   */
  async revoke(id: string, by: string): Promise<"revoked" | "not_found" | AlreadyRevoked> {
    const r = await this.store.apiKeys.updateOne({ _id: id, revokedAt: { $exists: false } }, { $set: { revokedAt: this.clock.now(), revokedBy: by } });
    // After the write: a request checked while it ran may have cached the key as valid; one
    // still reading it sees the count change and does not cache it.
    this.revocations++;
    this.cache.delete(id);
    if (r.modifiedCount === 1) return "revoked";
    const key = await this.store.apiKeys.findById(id).select({ revokedAt: 1, revokedBy: 1 }).lean<Pick<ApiKeyDoc, "revokedAt" | "revokedBy">>();
    if (!key) return "not_found";
    return { already: true, ...(key.revokedAt ? { revokedAt: key.revokedAt } : {}), ...(key.revokedBy ? { revokedBy: key.revokedBy } : {}) };
  }

  /** The caller a bearer token belongs to, or null for a malformed, unknown or revoked one. */
  async authenticate(token: string): Promise<ApiCaller | null> {
    const m = TOKEN.exec(token);
    if (!m) return null;
    const id = m[1]!;
    const hash = sha256(token);
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && hit.until > now) return same(hit.hash, hash) ? hit.caller : null;
    const revocations = this.revocations;
    const doc = await this.store.apiKeys.findById(id).lean<ApiKeyDoc>();
    if (!doc || doc.revokedAt || !same(doc.hash, hash)) {
      this.cache.delete(id);
      return null;
    }
    const caller: ApiCaller = { id, label: doc.label, scopes: new Set(doc.scopes) };
    // Not when a revocation landed while the key was read: it may be this key's, and a cache
    // entry made after its delete would accept the revoked key for CACHE_MS more.
    if (this.revocations === revocations) this.cache.set(id, { caller, hash: doc.hash, until: now + CACHE_MS });
    if ((this.touched.get(id) ?? 0) + TOUCH_MS < now) {
      this.touched.set(id, now);
      await this.store.apiKeys.updateOne({ _id: id }, { $set: { lastUsedAt: this.clock.now() } });
    }
    return caller;
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export { API_SCOPES };
