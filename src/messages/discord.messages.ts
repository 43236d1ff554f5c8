/** Messages of the Discord adapter (see src/core/messages.ts). */
export const en = {
  "discord.option": "{name}, e.g. {example}",
  "discord.option.plain": "{name}",
  "discord.option.flag": "--{name}: true to turn it on",
  "discord.group": "{name} commands",
  "discord.acted": "{outcome} — {label} by {user}",
  "discord.outcome.ok": "Done",
  "discord.outcome.failed": "Not done",
  "discord.already_pressed": "You already pressed this button; nothing was changed the second time.",
  "discord.guild_refused": "This server is not set up for shopops (DISCORD_GUILD_IDS); ask the shop's admin.",
  "discord.table.truncated": "(table cut to fit Discord; {shown} of {total} rows)",
  "discord.startup": "Discord: connected as {user}; {commands}",
  "discord.startup.registered": "application commands registered",
  "discord.startup.unchanged": "application commands unchanged",
} as const;

export const zh: Record<keyof typeof en, string> = {
  "discord.option": "{name}，例如 {example}",
  "discord.option.plain": "{name}",
  "discord.option.flag": "--{name}：设为 true 即开启",
  "discord.group": "{name} 相关命令",
  "discord.acted": "{outcome} — {user} 点击了「{label}」",
  "discord.outcome.ok": "已完成",
  "discord.outcome.failed": "未完成",
  "discord.already_pressed": "你已经点过这个按钮，第二次不会有任何变更。",
  "discord.guild_refused": "此服务器未设置使用 shopops（DISCORD_GUILD_IDS）；请联系商店管理员。",
  "discord.table.truncated": "（表格已截断以适应 Discord：显示 {shown}/{total} 行）",
  "discord.startup": "Discord：已连接，身份 {user}；{commands}",
  "discord.startup.registered": "已注册应用命令",
  "discord.startup.unchanged": "应用命令无变化",
};
