/** Messages of the Slack adapter (see src/core/messages.ts). */
export const en = {
  "slack.team_refused": "This workspace is not set up for shopops (SLACK_TEAM_IDS); ask the shop's admin.",
  "slack.action.done": "{user} ran `{command}` · {when}",
  "slack.action.already": "You already pressed this button ({when}); nothing was changed the second time.",
  "slack.complaint.already": "A complaint was already filed from this message by {user}.",
  "slack.complaint.not_filed": "No complaint was filed from this message: {why}. If the bot cannot read the channel, invite it (`/invite @shopops`), then react again.",
  "slack.home.title": "shopops",
  "slack.home.footer": "Type `/ops help` to see the commands you can run.",
  "slack.manifest.description": "Chat-ops for e-commerce operations: stock, orders, refunds, coupons, complaints and sales digests.",
  "slack.manifest.ops": "Run any shopops command (try /ops help)",
  "slack.manifest.ops.hint": "<command> [arguments], e.g. stock SKU-1001",
  "slack.manifest.group": "{name} commands: {subcommands}",
  "slack.startup.socket": "slack: connected in Socket Mode",
  "slack.startup.http": "slack: listening on port {port} (POST /slack/events)",
  "slack.startup.shared": "slack: on the HTTP server's port {port} (POST /slack/events), as HTTP_PORT equals SLACK_PORT",
} as const;

export const zh: Record<keyof typeof en, string> = {
  "slack.team_refused": "此工作区未设置使用 shopops（SLACK_TEAM_IDS）；请联系店铺管理员。",
  "slack.action.done": "{user} 执行了 `{command}` · {when}",
  "slack.action.already": "你已按过此按钮（{when}），第二次未做任何更改。",
  "slack.complaint.already": "{user} 已根据这条消息登记过投诉。",
  "slack.complaint.not_filed": "未能根据这条消息登记投诉：{why}。如果机器人无法读取该频道，请先邀请它（`/invite @shopops`），再添加表情。",
  "slack.home.title": "shopops",
  "slack.home.footer": "输入 `/ops help` 查看你可以使用的命令。",
  "slack.manifest.description": "电商运营的聊天运维：库存、订单、退款、优惠券、投诉与销售日报。",
  "slack.manifest.ops": "运行任意 shopops 命令（试试 /ops help）",
  "slack.manifest.ops.hint": "<命令> [参数]，例如 stock SKU-1001",
  "slack.manifest.group": "{name} 相关命令：{subcommands}",
  "slack.startup.socket": "slack：已通过 Socket Mode 连接",
  "slack.startup.http": "slack：正在监听端口 {port}（POST /slack/events）",
  "slack.startup.shared": "slack：与 HTTP 服务共用端口 {port}（POST /slack/events），因为 HTTP_PORT 与 SLACK_PORT 相同",
};
