import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { escapeMrkdwn, renderBlocks, type Block } from "../adapters/slack/blocks.js";
import { makeTestApp, type TestApp } from "./helpers/app.js";

// A complaint filed from a Slack reaction loses its control characters (kept as typed, they
// would be stored: a bidi override spoofs a card's text); a long Slack text full of &, <, >
// keeps as much as fits.

let app: TestApp;

beforeAll(async () => {
  app = await makeTestApp();
  await app.services.identity.grant("shell:sup", "support", "shell:admin");
});
afterAll(() => app.close());

const idOf = (r: { reply: { title?: string } }) => /C-[A-Z0-9]+/.exec(r.reply.title ?? "")![0];

describe("attached text", () => {
  it("a message filed from a reaction is stored without control characters, line breaks and tabs kept", async () => {
    const line = "complaint new source=slack link=https://x.slack.com/archives/C1/p1 author=slack:T1:U1";
    const r = await app.core.invoke({ identity: "shell:sup", platform: "shell", text: line, attachedText: "evil \u001b[31mred\u202e txet\r\nline two\tcol\u0000" });
    expect(r.outcome, r.reply.text).toBe("ok");
    const stored = await app.store.complaints.findById(idOf(r)).lean();
    expect(stored!.text).toBe("evil [31mred txet\nline two\tcol");
    // The audit entry shows the text as filed (no escapes left to show).
    const audit = await app.store.audit.findById(r.ref).lean();
    expect(audit!.args).toContain('"evil [31mred txet line two col"');
  });

  it("typed, the same characters are still refused", async () => {
    const r = await app.run("shell:sup", "complaint new \"evil \u202e txet\"");
    expect(r.code).toBe("control_chars");
  });
});

type TextObject = { type: string; text: string };
const sectionTexts = (blocks: Block[]): string[] => blocks.filter((b) => b.type === "section" && b.text).map((b) => (b.text as TextObject).text);
const unescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

describe("Slack: a long text with &, <, >", () => {
  // 7,000 escaped characters is the room of a reply's text.
  const longestFitting = (raw: string): string => {
    let end = 0;
    while (end < raw.length && escapeMrkdwn(raw.slice(0, end + 1)).length + 1 <= 7000) end++;
    return raw.slice(0, end);
  };
  for (const [name, unit] of [["R&D > Q&A >> ", "R&D > Q&A >> "], ["pasted HTML", "<td>&nbsp;</td>"]] as const) {
    it(`${name}: shows the longest prefix that fits, ending "…"`, () => {
      const raw = unit.repeat(Math.ceil(4000 / unit.length)).slice(0, 4000);
      const texts = sectionTexts(renderBlocks({ text: raw, plainText: true, visibility: "public" }).blocks);
      expect(texts.join("").length).toBeLessThanOrEqual(7000);
      const shown = texts.map(unescape).join("");
      expect(shown.endsWith("…")).toBe(true);
      // Sections are cut at spaces, which the cut takes: compared without them.
      const expected = longestFitting(raw);
      expect(expected.length).toBeGreaterThan(3000);
      expect(shown.replace(/\s/g, "")).toBe(expected.replace(/\s/g, "") + "…");
    });
  }
});
