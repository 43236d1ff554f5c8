import { mkdir, writeFile } from "node:fs/promises";
import { translator, type Locale } from "../../src/core/messages.js";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Core, InvocationResult } from "../../src/core/core.js";
import type { Deliverer, Destination } from "../../src/core/outbound.js";
import type { Reply } from "../../src/core/reply.js";
import type { OutboxService } from "../../src/services/outbox.service.js";
import { renderText } from "./render.js";

/** Exit code for a result: 0 ok, 1 user error or refusal, 2 internal error. */
export function exitCodeOf(r: InvocationResult): number {
  if (r.outcome === "ok") return 0;
  return r.outcome === "error" ? 2 : 1;
}

/** Options of the shell adapter. */
export interface ShellOptions {
  core: Core;
  identity: string;
  /** The person at the terminal, when `identity` is another one (`--as`): the audit trail names both. */
  via?: string;
  /** Where images (charts) are written. */
  outDir: string;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Interactive prompt (a terminal) or a plain stream of commands. */
  interactive: boolean;
  /** Language of the adapter's own messages (the shop's). */
  locale?: Locale;
  /** When given, notifications for the shell are printed after each command. */
  outbox?: OutboxService;
}

/**
 * The local shell adapter: one command line in, one rendered reply out. It is
 * also the shell's {@link Deliverer}: notifications and alerts addressed to
 * shell users or channels are printed.
 */
export class ShellAdapter implements Deliverer {
  readonly platform = "shell" as const;

  constructor(private readonly opts: ShellOptions) {}

  /** Runs one command line and prints its reply; returns its exit code. */
  async runOne(line: string): Promise<number> {
    // U+FFFD is what the decoder left for bytes it could not read (a GBK script read as UTF-8):
    // refused here, where the bytes came in, so it is never stored as text.
    if (line.includes("\uFFFD")) {
      await this.print({ status: "error", code: "bad_encoding", text: translator(this.opts.locale ?? "en")("error.bad_encoding"), visibility: "ephemeral" });
      return 1;
    }
    const r = await this.opts.core.invoke({ identity: this.opts.identity, platform: "shell", text: line, ...(this.opts.via ? { via: this.opts.via } : {}) });
    await this.print(r.reply);
    if (this.opts.outbox) await this.opts.outbox.dispatch(this);
    return exitCodeOf(r);
  }

  /** Prints an outbound message with a line saying whom it is for. */
  async deliver(dest: Destination, reply: Reply): Promise<void> {
    this.opts.output.write(`[→ ${dest.kind === "user" ? dest.identity : `#${dest.channel}`}]\n`);
    await this.print(reply);
  }

  /** Prints a reply (also used for notifications and alerts). */
  async print(reply: Reply): Promise<void> {
    let imagePath: string | undefined;
    if (reply.image) {
      await mkdir(this.opts.outDir, { recursive: true });
      imagePath = path.join(this.opts.outDir, reply.image.filename);
      await writeFile(imagePath, reply.image.data);
    }
    this.opts.output.write(renderText(reply, imagePath) + "\n");
  }

  /**
   * Reads command lines until end of input, running each in order. Blank lines
   * and `#` comments are skipped. Returns the highest exit code seen.
   */
  async runLines(stop?: AbortSignal): Promise<number> {
    const rl = createInterface({
      input: this.opts.input,
      ...(this.opts.interactive ? { output: this.opts.output, prompt: "shopops> " } : {}),
      terminal: this.opts.interactive,
    });
    let worst = 0;
    // Ctrl+C at the prompt ends the session (and the bot shuts down cleanly).
    rl.on("SIGINT", () => rl.close());
    // A signal to the process: the line running finishes, no further one starts.
    stop?.addEventListener("abort", () => rl.close());
    if (this.opts.interactive) rl.prompt();
    for await (const raw of rl) {
      if (stop?.aborted) break;
      const line = raw.trim();
      if (this.opts.interactive && (line === "exit" || line === "quit")) break;
      if (line !== "" && !line.startsWith("#")) {
        worst = Math.max(worst, await this.runOne(line));
        if (!this.opts.interactive) this.opts.output.write("\n");
      }
      if (this.opts.interactive) rl.prompt();
    }
    rl.close();
    return worst;
  }
}
