import type { Store } from "../store/models.js";
import type { Clock } from "../core/clock.js";
import { isRole, type Role } from "../core/roles.js";

/** Result of a role change. */
export type RoleChange =
  | { kind: "granted"; previous: Role }
  | { kind: "revoked"; previous: Role }
  | { kind: "none" }
  | { kind: "bootstrap" };

/** Binds platform identities to roles. Unknown identities are viewers. */
export class IdentityService {
  private readonly bootstrap: Set<string>;

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
  }

  /** Identities that are admins by configuration. */
  bootstrapAdmins(): string[] {
    return [...this.bootstrap];
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

  /** Grants `role` to `identity` (one upsert; granting the same role twice is harmless). */
  async grant(identity: string, role: Role, by: string): Promise<RoleChange> {
    if (this.bootstrap.has(identity)) return { kind: "bootstrap" };
    const before = await this.store.roles
      .findOneAndUpdate(
        { _id: identity },
        { $set: { role, grantedBy: by, grantedAt: this.clock.now() } },
        { upsert: true, returnDocument: "before" },
      )
      .lean();
    return { kind: "granted", previous: before && isRole(before.role) ? before.role : "viewer" };
  }

  /** Removes a granted role: the identity becomes a viewer. */
  async revoke(identity: string): Promise<RoleChange> {
    if (this.bootstrap.has(identity)) return { kind: "bootstrap" };
    const before = await this.store.roles.findOneAndDelete({ _id: identity }).lean();
    if (!before) return { kind: "none" };
    return { kind: "revoked", previous: isRole(before.role) ? before.role : "viewer" };
  }

  /** All role bindings, most privileged first. */
  async list(): Promise<{ identity: string; role: string; grantedBy: string; grantedAt: Date }[]> {
    const docs = await this.store.roles.find().sort({ _id: 1 }).limit(500).lean();
    return docs.map((d) => ({ identity: d._id, role: d.role, grantedBy: d.grantedBy, grantedAt: d.grantedAt }));
  }
}
