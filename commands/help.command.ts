import { z } from "zod";
import { defineCommand, requiredRole } from "../src/core/command.js";
import { CHINESE_COMMAND_WORDS, examplesOf, usageOf } from "../src/core/registry.js";
import { clip } from "../src/core/reply.js";
import { roleAtLeast, type Role } from "../src/core/roles.js";

export default defineCommand({
  name: "help",
  description: "cmd.help",
  positional: ["...command"],
  args: z.object({ command: z.string().optional() }),
  usage: { en: "[<command…>]", zh: "[<命令…>]" },
  examples: ["help", "help stock adjust"],
  permission: "viewer",
  mutates: false,
  async handler({ args, actor, commands, t, config, locale }) {
    const role = (c: (typeof commands)[number]) => requiredRole(c, config);
    // In brackets already (`complaint assign（经理）`): the name without its own bracketed English value.
    const shortRole = (r: Role) => t(`role.name.${r}`).replace(/（[^（）]*）$/, "");
    const allowed = commands.filter((c) => roleAtLeast(actor.role, role(c)));
    if (args.command) {
      // Matched as the core looks names up (NFKC, lower case: `ｓｔｏｃｋ` is `stock`); words that
      // are not understood are quoted as typed (`SKU-1001`).
      const typed = args.command.trim().split(/\s+/);
      // A Chinese word for a group (`help 退款`) is read as the group it names (`help refund`).
      const words = typed.flatMap((w, i) => {
        const word = w.normalize("NFKC").toLowerCase();
        return i === 0 && CHINESE_COMMAND_WORDS[word] && typed.length === 1 ? CHINESE_COMMAND_WORDS[word].split(" ") : [word];
      });
      const named = (q: string, among: typeof commands) => among.filter((c) => c.name === q || c.name.startsWith(q + " "));
      // `help stock adjust now`: help for the longest start of what was typed that names commands
      // (`stock adjust`), saying the words after it were not understood.
      let n = words.length;
      while (n > 1 && named(words.slice(0, n).join(" "), commands).length === 0) n--;
      const q = words.slice(0, n).join(" ");
      const mine = named(q, allowed);
      // Commands the caller may not run yet are shown too, saying the role they need and who grants
      // it: `help refund approve` is how a newcomer learns what to ask for.
      const matches = mine.length ? mine : named(q, commands);
      if (matches.length === 0) {
        // Clipped as an unknown command is (40 characters): a pasted paragraph is not echoed back whole.
        return { status: "error", code: "unknown_command", text: t("help.unknown", { name: clip(typed.join(" "), 41) }), visibility: "ephemeral" };
      }
      const denied = mine.length
        ? []
        : [
            matches.length === 1
              ? t("error.permission", { command: q, required: t(`role.name.${role(matches[0]!)}`), role: t(`role.name.${actor.role}`) })
              : t("help.group_permission", { role: t(`role.name.${actor.role}`) }),
          ];
      // The words after the command (`help stock adjust now`; a word that stood for a group was read as it).
      const extra = typed.slice(words.length === typed.length ? n : typed.length).join(" ");
      const notes = [...(extra ? [t("help.extra_words", { words: clip(extra, 41), command: q })] : []), ...denied];
      const note = notes.length ? { context: notes } : {};
      // One command: its parts as fields. A group (`help complaint`, 8 commands): one field per
      // command, so all of them fit Discord's 25 fields.
      const fields =
        matches.length === 1
          ? matches.flatMap((c) => [
              { label: c.name, value: t(c.description) },
              { label: t("label.usage"), value: "`" + usageOf(c, locale) + "`" },
              { label: t("label.examples"), value: examplesOf(c, locale).map((e) => "`" + e + "`").join("\n") },
              { label: t("help.permission"), value: t(`role.name.${role(c)}`), inline: true },
            ])
          : matches.map((c) => {
              // An example that is the usage itself (`digest subscribe`, no arguments) is not shown twice.
              const usage = usageOf(c, locale);
              const examples = examplesOf(c, locale).filter((e) => e !== usage).slice(0, 2);
              return { label: c.name + t("text.paren", { text: shortRole(role(c)) }), value: [t(c.description), "`" + usage + "`", ...examples.map((e) => "`" + e + "`")].join("\n") };
            });
      return {
        title: matches.map((c) => c.name).join(t("text.list_sep")),
        fields,
        ...note,
        status: "info",
        visibility: "ephemeral",
      };
    }
    // One field a group (the first word), one line a command with what it does. A table of
    // usages padded to the longest showed a quarter of the commands on Slack; usage and examples
    // are one `help <command>` away (the footer says so).
    const groups = new Map<string, string[]>();
    for (const c of allowed) {
      const group = c.name.split(" ")[0]!;
      groups.set(group, [...(groups.get(group) ?? []), `\`${c.name}\` — ${t(c.description)}`]);
    }
    return {
      title: t("help.title", { role: t(`role.name.${actor.role}`) }),
      fields: [...groups].map(([group, lines]) => ({ label: group, value: lines.join("\n") })),
      context: [t("help.footer")],
      status: "info",
      visibility: "ephemeral",
    };
  },
});
