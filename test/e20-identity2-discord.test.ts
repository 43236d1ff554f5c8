/**
 * A bare Discord mention typed on Discord (e20; see e20-identity2.test.ts), through the real
 * discord.js client and the local peer: `/role grant identity:<@123…>` grants that member, as
 * `discord:<id>`, not refused as "not an identity".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discordHarness, discordRole, type DiscordHarness } from "./helpers/discord.js";

const admins = discordRole("Admins", "admin");
const ada = admins.member("Ada");
let bot: DiscordHarness;

beforeAll(async () => {
  bot = await discordHarness({ role: admins, start: true });
});
afterAll(() => bot?.stop());

describe("a bare Discord mention typed on Discord", () => {
  it("`/role grant identity:<@…>` grants that member", async () => {
    const member = "423456789012345678";
    const answer = await bot.answer(bot.peer.slash(ada, "role grant", { identity: `<@${member}>`, role: "staff" }).id);
    expect(JSON.stringify(answer)).toContain(`discord:${member} is now staff (was viewer).`);
    expect((await bot.app.store.roles.findById(`discord:${member}`).lean())?.role).toBe("staff");
  });
});
