import { mkdir, open, readFile, stat, unlink, writeFile, type FileHandle } from "node:fs/promises";
import { translator, type Locale } from "../../src/core/messages.js";
import path from "node:path";
import { clearScreenDown, createInterface, cursorTo, moveCursor, type Interface } from "node:readline";
import { createLogger, type Logger } from "../../src/core/logger.js";
import type { Core, InvocationResult } from "../../src/core/core.js";
import type { Deliverer, Destination } from "../../src/core/outbound.js";
import type { Reply } from "../../src/core/reply.js";
import type { OutboxService } from "../../src/services/outbox.service.js";
import { renderText } from "./render.js";

/**
 * Exit code of a run whose output its reader closed (`… | head -1`): what a shell reports for a
 * program ended by SIGPIPE (128 + 13).
 */
export const OUTPUT_CLOSED_EXIT = 141;

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
  /**
   * Name of the database the replies come from: part of every image's file name, with the
   * language, so the demo's charts and a shop's never share a file.
   */
  database?: string;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Interactive prompt (a terminal) or a plain stream of commands. */
  interactive: boolean;
  /** Language of the adapter's own messages and of the replies (the shop's). */
  locale?: Locale;
  /** When given, notifications for the shell are printed after each command. */
  outbox?: OutboxService;
  /** Where a failed delivery round is logged (default: errors as JSON lines on stderr). */
  logger?: Logger;
}

/** A name as a word of a file name: anything but letters, digits, `.`, `_` and `-` becomes `_`. */
function fileWord(s: string): string {
  return s.replace(/[^\p{L}\p{N}._-]/gu, "_");
}

/** True when the stream is a terminal. */
function isTerminal(s: NodeJS.ReadableStream | NodeJS.WritableStream): boolean {
  return (s as { isTTY?: boolean }).isTTY === true;
}

/**
 * The local shell adapter: one command line in, one rendered reply out. It is
 * also the shell's {@link Deliverer}: notifications and alerts addressed to
 * shell users or channels are printed.
 */
export class ShellAdapter implements Deliverer {
  readonly platform = "shell" as const;

  private readonly logger: Logger;
  /** The prompt's line editor while the prompt waits for a line (no command running), else undefined. */
  private waiting: Interface | undefined;
  /** The exit code once the output can no longer be written (its reader gone), else undefined. */
  private outputGone: number | undefined;
  /** The image files this session created, by name (`digest-2026-11-25-shop-en.png`): its own to replace. */
  private readonly written = new Map<string, string>();

  constructor(private readonly opts: ShellOptions) {
    this.logger = opts.logger ?? createLogger("error");
    // A reader that stops reading (`| head -1`) closes the pipe, and the next write fails with
    // EPIPE. That ends the run quietly, as SIGPIPE ends a program in a pipeline: no stack trace,
    // nothing more printed, no further line of a script run. (Unhandled, the error would crash
    // the process with a stack trace and leave the database server to stop by itself.)
    opts.output.on("error", (e: NodeJS.ErrnoException) => this.outputFailed(e));
  }

  /** Records that the output cannot be written: a closed pipe quietly, anything else logged. */
  private outputFailed(e: NodeJS.ErrnoException): void {
    if (this.outputGone !== undefined) return;
    if (e.code === "EPIPE") {
      this.outputGone = OUTPUT_CLOSED_EXIT;
    } else {
      this.outputGone = 2;
      this.logger.error("cannot write to the output", { error: e });
    }
    this.waiting = undefined;
  }

  /**
   * Terminal mode (line editing, Ctrl-C handled here, control codes written) only when both
   * ends are terminals: `npm run shell | tee log` gets a plain prompt and no control codes.
   */
  private get terminal(): boolean {
    return this.opts.interactive && isTerminal(this.opts.input) && isTerminal(this.opts.output);
  }

  /** Runs one command line and prints its reply; returns its exit code. */
  async runOne(line: string, lineNo?: number): Promise<number> {
    // U+FFFD is what the decoder left for bytes it could not read (a GBK script read as UTF-8):
    // refused here, where the bytes came in, so it is never stored as text. A piped script's
    // line is named by its number, as the import names its lines.
    if (line.includes("\uFFFD")) {
      const t = translator(this.opts.locale ?? "en");
      const text = t("error.bad_encoding");
      await this.print({ status: "error", code: "bad_encoding", text: lineNo === undefined ? text : t("shell.line_prefix", { n: lineNo, text }), visibility: "ephemeral" });
      return this.outputGone ?? 1;
    }
    const r = await this.opts.core.invoke({ identity: this.opts.identity, platform: "shell", text: line, ...(this.opts.via ? { via: this.opts.via } : {}) });
    await this.print(r.reply);
    if (this.outputGone !== undefined) return this.outputGone;
    if (this.opts.outbox) {
      // The command has run and its reply is printed: a delivery round that fails (the database
      // gone for a moment) is logged, as the timer's rounds are, and the prompt stays.
      try {
        await this.opts.outbox.dispatch(this);
      } catch (e) {
        this.logger.error("outbox round failed", { platform: this.platform, error: e });
      }
    }
    return exitCodeOf(r);
  }

  /** Prints an outbound message with a line saying whom it is for; fails when the output is gone (it stays queued). */
  async deliver(dest: Destination, reply: Reply): Promise<void> {
    const text = await this.rendered(reply);
    await this.write(`[→ ${dest.kind === "user" ? dest.identity : `#${dest.channel}`}]\n${text}`);
    if (this.outputGone !== undefined) throw new Error("the shell's output is closed: nothing was printed");
  }

  /** Prints a reply (also used for notifications and alerts). */
  async print(reply: Reply): Promise<void> {
    await this.write(await this.rendered(reply));
  }

  /** A reply as terminal text, its image written to a file first. */
  private async rendered(reply: Reply): Promise<string> {
    const imagePath = reply.image ? await this.saveImage(reply.image) : undefined;
    return renderText(reply, imagePath) + "\n";
  }

  /**
   * Writes an image under `outDir` and returns its path, never replacing another session's image:
   * the file is `<name>-<database>-<language>.png` (`digest-2026-11-25-shop-en.png`), or when that
   * holds a different image (another session's, another server's database of the same name) the
   * first free `…-2.png`, `…-3.png`. A file this session wrote for the same name is replaced (the
   * digest drawn 30 times a day is one file, not 30); a file that holds the same bytes already is
   * the one printed. Sizes are compared before bytes, so only a file of the same size is read.
   */
  private async saveImage(image: NonNullable<Reply["image"]>): Promise<string> {
    const dir = this.opts.outDir;
    await mkdir(dir, { recursive: true, mode: 0o700 }); // the shop's figures: this user's only
    const { name, ext } = path.parse(path.basename(image.filename));
    const stem = [name, ...[this.opts.database, this.opts.locale].filter((x): x is string => !!x).map(fileWord)].join("-");
    const own = this.written.get(`${stem}${ext}`);
    if (own) {
      await writeFile(own, image.data, { mode: 0o600 });
      return own;
    }
    for (let n = 1; ; n++) {
      const file = path.join(dir, `${stem}${n > 1 ? `-${n}` : ""}${ext}`);
      let fh: FileHandle | undefined;
      try {
        // Created only if absent ("wx"): two sessions writing at once never write the same file.
        fh = await open(file, "wx", 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      if (fh) {
        try {
          await fh.writeFile(image.data);
        } catch (e) {
          await fh.close().catch(() => {});
          await unlink(file).catch(() => {}); // ours, begun but not written whole (disk full): not left behind
          throw e;
        }
        await fh.close();
        this.written.set(`${stem}${ext}`, file);
        return file;
      }
      const held = await stat(file).catch(() => undefined);
      if (!held?.isFile() || held.size !== image.data.length) continue;
      const bytes = await readFile(file).catch(() => undefined);
      if (bytes && Buffer.compare(bytes, image.data) === 0) return file;
    }
  }

  /**
   * Writes text, resolving once it is written or has failed (the output gone: nothing more is
   * written). While the prompt waits (an alert falling due as the user types), the prompt
   * line is cleared first and drawn again below with what was typed, so neither is lost.
   */
  private async write(text: string): Promise<void> {
    if (this.outputGone !== undefined) return;
    const rl = this.waiting;
    const out = this.opts.output;
    // Written, or failed: a failed write reports in the next tick (EPIPE included). Not waited
    // for longer: a reader that is slow (or a stream nobody reads yet) must not hold the command.
    const written = (s: string) =>
      Promise.race([
        new Promise<void>((resolve) =>
          out.write(s, (e?: Error | null) => {
            if (e) this.outputFailed(e as NodeJS.ErrnoException);
            resolve();
          }),
        ),
        new Promise<void>((resolve) => setImmediate(resolve)),
      ]);
    if (!rl) {
      await written(text);
    } else if (this.terminal) {
      moveCursor(out, 0, -rl.getCursorPos().rows); // to the prompt's first row (a long line wraps)
      cursorTo(out, 0);
      clearScreenDown(out);
      await written(text);
      if (this.outputGone === undefined) redraw(rl);
    } else {
      // A plain prompt (output not a terminal): the text on a line of its own, then the prompt again.
      await written("\n" + text);
      if (this.outputGone === undefined) rl.prompt();
    }
  }

  /**
   * Reads command lines until end of input (or `exit`/`quit`), running each in order. Blank
   * lines and `#` comments are skipped. A script returns the highest exit code seen; an
   * interactive session left by `exit`, `quit`, Ctrl-D or Ctrl-C returns 0.
   */
  async runLines(stop?: AbortSignal): Promise<number> {
    const interactive = this.opts.interactive;
    const rl = createInterface({
      input: this.opts.input,
      ...(interactive ? { output: this.opts.output, prompt: "shopops> " } : {}),
      terminal: this.terminal,
    });
    let worst = 0;
    // Ctrl-C at the prompt, as in a shell: a line with text is dropped for a new prompt; on an
    // empty line it ends the session (and the bot shuts down cleanly).
    rl.on("SIGINT", () => {
      if (rl.line === "") return rl.close();
      this.opts.output.write("^C\n");
      redraw(rl, true);
    });
    // A signal to the process: the line running finishes, no further one starts.
    stop?.addEventListener("abort", () => rl.close());
    rl.on("close", () => (this.waiting = undefined));
    const prompt = () => {
      if (!interactive || stop?.aborted) return;
      this.waiting = rl;
      rl.prompt();
    };
    prompt();
    let lineNo = 0;
    for await (const raw of rl) {
      lineNo++;
      this.waiting = undefined;
      if (stop?.aborted) break;
      const line = raw.trim();
      // As in sh, `exit` or `quit` ends a script too (its lines after it do not run); not a command.
      if (line === "exit" || line === "quit") break;
      if (line !== "" && !line.startsWith("#")) {
        worst = Math.max(worst, await this.runOne(line, interactive ? undefined : lineNo));
        if (!interactive) await this.write("\n");
      }
      // Nobody reads the output any more: no further line runs (as a program ended by SIGPIPE).
      if (this.outputGone !== undefined) break;
      prompt();
    }
    this.waiting = undefined;
    rl.close();
    if (this.outputGone !== undefined) return this.outputGone;
    // At the prompt each reply said how its command went: leaving it is not a failure.
    return interactive ? 0 : worst;
  }
}

/**
 * Draws the prompt and the line being typed again, on the row the cursor is on (after other
 * text was written), or with an empty line (Ctrl-C on a line with text).
 */
function redraw(rl: Interface, clear = false): void {
  const state = rl as unknown as { prevRows: number; line: string; cursor: number };
  // readline moves up by the rows of the line it drew last before drawing again; that line is
  // above the text just written, so the drawing starts here, on a fresh row.
  state.prevRows = 0;
  // The line is emptied here, not with a Ctrl-U key: on a TERM=dumb terminal readline ignores
  // that key, so the dropped line stayed, without a prompt, and ran at the next Enter.
  if (clear) {
    state.line = "";
    state.cursor = 0;
    rl.prompt();
  } else rl.prompt(true);
}
