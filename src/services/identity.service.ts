import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Store } from "../store/models.js";
import { isDuplicateKey } from "../store/writes.js";
import type { Clock } from "../core/clock.js";
import { isRole, type Role } from "../core/roles.js";

/** Result of a role change. */
export type RoleChange =
  | { kind: "granted"; previous: Role }
  | { kind: "revoked"; previous: Role }
  | { kind: "none" }
  /** The identity had that role already: nothing was written (its grant keeps who granted it and when). */
  | { kind: "unchanged" }
  | { kind: "bootstrap" }
  /** Refused: it would leave the shop without an admin (no SHOPOPS_ADMINS, and this was the last stored one). */
  | { kind: "last_admin" }
  /** Another role change held the lease for too long: nothing changed; try again. */
  | { kind: "busy" };

/** The `meta` document leased by a role change while it checks and writes (see IdentityService.guarded). */
const ROLE_LEASE = "roles:lease";
/** How long a role change may hold the lease (a process that died holding it blocks no longer). */
const ROLE_LEASE_MS = 10_000;
/**
 * How far instances' clocks may differ: a lease counts as expired only this long after its end,
 * so an instance whose clock runs ahead does not take a lease another still holds. A holder that
 * died blocks role changes for up to the lease plus this (answered `busy`).
 */
const ROLE_LEASE_SKEW_MS = 60_000;

/** One person: its id (the smallest of its identities once a link is complete) and every identity linked to it, sorted. */
export interface Person {
  id: string;
  identities: string[];
}

/** Result of {@link IdentityService.link}. */
export type LinkResult =
  | { kind: "linked"; person: Person }
  /** The two were one person already: nothing was written. */
  | { kind: "already"; person: Person }
  | { kind: "self" }
  | { kind: "too_many"; max: number };

/** Result of {@link IdentityService.unlink}: the identities it was linked to, or none. */
export type UnlinkResult = { kind: "unlinked"; from: string[] } | { kind: "none" };

/** Most identities one person may have: keeps every lookup of a person a few small reads. */
const MAX_LINKED = 20;

/**
 * Binds platform identities to roles (unknown identities are viewers), and links identities of
 * one person (`role link`), so rules about people (nobody approves their own refund) hold
 * across platforms. Roles stay per identity.
 */
export class IdentityService {
  private readonly bootstrap: Set<string>;
  private readonly demo = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    bootstrapAdmins: readonly string[],
  ) {
    this.bootstrap = new Set(bootstrapAdmins);
  }

  /** Adds a bootstrap admin at run time (the shell user on the embedded demo database). */
  addBootstrapAdmin(identity: string): void {
    this.bootstrap.add(identity);
    this.demo.add(identity);
  }

  /** Identities that are admins by configuration (SHOPOPS_ADMINS) or as the demo database's shell user. */
  bootstrapAdmins(): string[] {
    return [...this.bootstrap];
  }

  /** True for an admin made so at run time as the demo database's shell user, not by SHOPOPS_ADMINS. */
  isDemoAdmin(identity: string): boolean {
    return this.demo.has(identity);
  }

  /** The role of an identity. */
  async roleOf(identity: string): Promise<Role> {
    if (this.bootstrap.has(identity)) return "admin";
    const doc = await this.store.roles.findById(identity).lean();
    return doc && isRole(doc.role) ? doc.role : "viewer";
  }

  /** The role of each identity, as {@link roleOf} gives it, with one read of the role bindings. */
  async rolesOf(identities: readonly string[]): Promise<Map<string, Role>> {
    const bound = identities.filter((id) => !this.bootstrap.has(id));
    const docs = bound.length ? await this.store.roles.find({ _id: { $in: bound } }).lean() : [];
    const stored = new Map(docs.map((d) => [d._id, d.role]));
    return new Map(
      identities.map((id): [string, Role] => {
        if (this.bootstrap.has(id)) return [id, "admin"];
        const role = stored.get(id);
        return [id, role !== undefined && isRole(role) ? role : "viewer"];
      }),
    );
  }

  /**
   * Grants `role` to `identity` (one guarded upsert). Granting the role it has already writes
   * nothing (`unchanged`): the grant keeps who made it and when.
   */
  async grant(identity: string, role: Role, by: string): Promise<RoleChange> {
    if (this.bootstrap.has(identity)) return { kind: "bootstrap" };
    return this.guarded(async () => {
      if (role !== "admin" && (await this.isLastStoredAdmin(identity))) return { kind: "last_admin" };
      // Only a binding with another role (or none) is written: one that has this role already
      // does not match, and the upsert's insert then collides with it on _id. An identity
      // without a binding is a viewer already: granting viewer inserts none.
      const write = () =>
        this.store.roles
          .findOneAndUpdate(
            { _id: identity, role: { $ne: role } },
            { $set: { role, grantedBy: by, grantedAt: this.clock.now() } },
            { upsert: role !== "viewer", returnDocument: "before" },
          )
          .lean();
      // A collision is "has this role already" only when the stored binding says so: with
      // SHOPOPS_ADMINS (no lease) another admin's grant of another role may have inserted the
      // binding between this upsert's match and its insert. Then the write is tried again, now
      // matching that binding (a second collision: a binding that keeps changing, said unchanged
      // only if it holds this role).
      for (let attempt = 0; ; attempt++) {
        try {
          const before = await write();
          if (!before && role === "viewer") return { kind: "unchanged" };
          return { kind: "granted", previous: before && isRole(before.role) ? before.role : "viewer" };
        } catch (e) {
          if (!isDuplicateKey(e)) throw e;
          const stored = await this.store.roles.findById(identity).lean();
          if (stored?.role === role || attempt >= 1) return stored?.role === role ? { kind: "unchanged" } : { kind: "busy" };
        }
      }
    });
  }

  /** Removes a granted role: the identity becomes a viewer. */
  async revoke(identity: string): Promise<RoleChange> {
    if (this.bootstrap.has(identity)) return { kind: "bootstrap" };
    return this.guarded(async () => {
      if (await this.isLastStoredAdmin(identity)) return { kind: "last_admin" };
      const before = await this.store.roles.findOneAndDelete({ _id: identity }).lean();
      if (!before) return { kind: "none" };
      return { kind: "revoked", previous: isRole(before.role) ? before.role : "viewer" };
    });
  }

  /**
   * True when the shop runs on stored admins only (no SHOPOPS_ADMINS) and `identity` is the last
   * of them: demoting it would leave nobody able to grant roles.
   */
  private async isLastStoredAdmin(identity: string): Promise<boolean> {
    if (this.bootstrap.size > 0) return false;
    const [doc, others] = await Promise.all([this.store.roles.findById(identity).lean(), this.store.roles.countDocuments({ role: "admin", _id: { $ne: identity } })]);
    return doc?.role === "admin" && others === 0;
  }

  /**
   * Runs a role change while holding the role-change lease (one `meta` document, taken with one
   * guarded upsert), so "is this the last admin?" and the change that follows are not interleaved
   * with another change: two admins demoting each other at once are taken one after the other,
   * and the second is refused. With SHOPOPS_ADMINS there is always an admin: no lease. A lease
   * left by a crashed process runs out after {@link ROLE_LEASE_MS} (plus {@link ROLE_LEASE_SKEW_MS}).
   */
  private async guarded(change: () => Promise<RoleChange>): Promise<RoleChange> {
    if (this.bootstrap.size > 0) return change();
    const holder = randomUUID();
    const lease = this.store.meta.collection;
    for (let attempt = 0; ; attempt++) {
      const now = this.clock.now();
      try {
        const r = await lease.updateOne(
          // Expired by this process's clock, with room for clocks that differ between instances.
          { _id: ROLE_LEASE as never, $or: [{ until: { $lte: new Date(now.getTime() - ROLE_LEASE_SKEW_MS) } }, { until: { $exists: false } }] },
          { $set: { holder, until: new Date(now.getTime() + ROLE_LEASE_MS) } },
          { upsert: true },
        );
        if (r.modifiedCount === 1 || r.upsertedCount === 1) break;
      } catch (e) {
        if (!isDuplicateKey(e)) throw e; // held by another change: wait for it
      }
      if (attempt >= 100) return { kind: "busy" };
      await sleep(10 + Math.floor(Math.random() * 20));
    }
    try {
      return await change();
    } finally {
      await lease.updateOne({ _id: ROLE_LEASE as never, holder }, { $set: { until: new Date(0) } }).catch(() => {});
    }
  }

  /**
   * The person `identity` belongs to. Reads the links around it until nothing new turns up (a
   * few reads: groups are small), following them both ways so a half-done link or unlink still
   * gives every identity of the group the same answer. Never linked: its own person.
   */
  async person(identity: string): Promise<Person> {
    const { pointers, seen } = await this.linksAround([identity], `identity links around ${identity} do not end; check the identity_links collection`);
    return { id: rootOf(identity, pointers), identities: [...seen].sort() };
  }

  /**
   * The links around `identities`, read until nothing new turns up, both ways: each link's
   * pointer (identity → person) and every identity reached. Fails closed (`endless`) rather than
   * answer with part of a group (links cap groups far below the bound).
   */
  private async linksAround(identities: readonly string[], endless: string): Promise<{ pointers: Map<string, string>; seen: Set<string> }> {
    const pointers = new Map<string, string>();
    const seen = new Set(identities);
    for (let frontier = [...seen], round = 0; frontier.length; round++) {
      if (round > 4 * MAX_LINKED) throw new Error(endless);
      const docs = await this.store.identityLinks
        .find({ $or: [{ _id: { $in: frontier } }, { person: { $in: frontier } }] })
        .select({ person: 1 })
        .lean();
      frontier = [];
      for (const d of docs) {
        pointers.set(d._id, d.person);
        for (const id of [d._id, d.person]) {
          if (seen.has(id)) continue;
          seen.add(id);
          frontier.push(id);
        }
      }
    }
    return { pointers, seen };
  }

  /** The person id of an identity: the identity itself when it was never linked. */
  async personOf(identity: string): Promise<string> {
    return (await this.person(identity)).id;
  }

  /** Every identity of `identity`'s person, itself included, sorted. */
  async linked(identity: string): Promise<string[]> {
    return (await this.person(identity)).identities;
  }

  /** True when both identities belong to one person (the same identity, or linked). */
  async samePerson(a: string, b: string): Promise<boolean> {
    return a === b || (await this.linked(a)).includes(b);
  }

  /**
   * Links two identities (and so their whole groups) as one person. Each step is one
   * single-document write: first the larger group root points at the smaller one, the write
   * that alone joins the groups; then every member points straight at the person id, the
   * person id's own document last. A link cut short leaves the groups apart or joined, never
   * a group split.
   */
  async link(a: string, b: string, by: string): Promise<LinkResult> {
    if (a === b) return { kind: "self" };
    const pa = await this.person(a);
    if (pa.identities.includes(b)) return { kind: "already", person: pa };
    const pb = await this.person(b);
    const all = [...new Set([...pa.identities, ...pb.identities])].sort();
    if (all.length > MAX_LINKED) return { kind: "too_many", max: MAX_LINKED };
    const id = all[0]!;
    const [lo, hi] = [pa.id, pb.id].sort() as [string, string];
    await this.point(hi, lo, by);
    for (const m of all) if (m !== id) await this.point(m, id, by);
    await this.point(id, id, by);
    return { kind: "linked", person: { id, identities: all } };
  }

  /**
   * Takes `identity` out of its person: it becomes its own person again. The rest of the group
   * is pointed at its new person id (its smallest remaining identity) first, `identity` too,
   * so the group stays whole until the last write, the delete of `identity`'s document.
   */
  async unlink(identity: string, by: string): Promise<UnlinkResult> {
    const p = await this.person(identity);
    const rest = p.identities.filter((i) => i !== identity);
    if (!rest.length) return { kind: "none" };
    const id = rest[0]!;
    for (const m of [...rest, identity]) if (m !== id) await this.point(m, id, by);
    await this.point(id, id, by);
    await this.store.identityLinks.deleteOne({ _id: identity });
    // A lone identity needs no document (guarded: a link made meanwhile may point through it).
    if (rest.length === 1) await this.store.identityLinks.deleteOne({ _id: id, person: id });
    return { kind: "unlinked", from: rest };
  }

  /**
   * The persons with more than one identity that any of `identities` belongs to, by person id
   * (`role list`'s page): only their links are read (`$in`, a few reads as {@link person} takes),
   * so the answer is whole however many links the shop has. Each group is as {@link person}
   * reads it: the pointers followed both ways, so a link cut short never splits it.
   */
  async personsOf(identities: readonly string[]): Promise<Person[]> {
    const { pointers, seen } = await this.linksAround(identities, "identity links do not end; check the identity_links collection");
    // Connected groups (union-find over the pointers): one person each, as person() answers.
    const parent = new Map<string, string>();
    const find = (x: string): string => {
      let r = x;
      while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
      return r;
    };
    for (const [a, b] of pointers) {
      const [ra, rb] = [find(a), find(b)];
      if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
    }
    const groups = new Map<string, string[]>();
    for (const id of seen) groups.set(find(id), [...(groups.get(find(id)) ?? []), id]);
    return [...groups.values()]
      .filter((g) => g.length > 1)
      .map((g) => g.sort())
      .map((g) => ({ id: rootOf(g[0]!, pointers), identities: g }))
      .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  }

  /** Points `identity` at `person` (one upsert). */
  private async point(identity: string, person: string, by: string): Promise<void> {
    await this.store.identityLinks.updateOne({ _id: identity }, { $set: { person, linkedBy: by, linkedAt: this.clock.now() } }, { upsert: true });
  }

  /** The stored bindings of `identities` (a bootstrap admin's too: what it would be without SHOPOPS_ADMINS), by identity. */
  async storedOf(identities: readonly string[]): Promise<Map<string, { role: string; grantedBy: string; grantedAt: Date }>> {
    const docs = identities.length ? await this.store.roles.find({ _id: { $in: [...identities] } }).lean() : [];
    return new Map(docs.map((d) => [d._id, { role: d.role, grantedBy: d.grantedBy, grantedAt: d.grantedAt }]));
  }

  /**
   * One page of the stored role bindings (of `role` only, when given), by identity, with how many
   * there are in all: a long list is read page by page, never cut silently.
   */
  async list(q: { role?: Role; skip: number; limit: number }): Promise<{ bindings: { identity: string; role: string; grantedBy: string; grantedAt: Date }[]; total: number }> {
    // A bootstrap admin's stored binding is not its role (admin is): its row is the bootstrap
    // admins' (see storedOf), so it is neither listed nor counted twice.
    const bootstrap = [...this.bootstrap];
    const filter = { ...(q.role ? { role: q.role } : {}), ...(bootstrap.length ? { _id: { $nin: bootstrap } } : {}) };
    // limit(0) would be no limit at all: a page the bootstrap admins fill reads none.
    const [docs, total] = await Promise.all([
      q.limit > 0 ? this.store.roles.find(filter).sort({ _id: 1 }).skip(q.skip).limit(q.limit).lean() : [],
      this.store.roles.countDocuments(filter),
    ]);
    return { bindings: docs.map((d) => ({ identity: d._id, role: d.role, grantedBy: d.grantedBy, grantedAt: d.grantedAt })), total };
  }
}

/**
 * Where `identity`'s pointers end: an identity pointing at itself or at nothing, or, should
 * writes have crossed into a cycle, the cycle's smallest identity (the same for every member).
 */
function rootOf(identity: string, pointers: ReadonlyMap<string, string>): string {
  const path: string[] = [];
  const at = new Map<string, number>();
  for (let cur = identity; ; ) {
    const next = pointers.get(cur);
    if (next === undefined || next === cur) return cur;
    at.set(cur, path.length);
    path.push(cur);
    const seen = at.get(next);
    if (seen !== undefined) return path.slice(seen).sort()[0]!;
    cur = next;
  }
}
