/** Roles from least to most privileged; each includes the ones before it. */
export const ROLES = ["viewer", "staff", "support", "manager", "admin"] as const;

/** A shopops role. */
export type Role = (typeof ROLES)[number];

/** True when `role` grants at least `required`. */
export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

/** Type guard for role names typed by users. */
export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}
