import net from "node:net";

/**
 * A relay to the database at `uri` (a `mongodb://` URI) that holds the connection whose bytes first contain `marker`
 * (from that chunk on) until `release()`; other connections go on, so the process can still
 * record and report while that one waits; with `every`, all connections' bytes are held from then on.
 */
export async function holdingRelay(uri: string, marker: string, opts: { every?: boolean } = {}) {
  const target = new URL(uri.replace(/^mongodb:/, "http:"));
  let held!: () => void;
  const seen = new Promise<void>((resolve) => (held = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const sockets = new Set<net.Socket>();
  let anyHeld = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let holding = false;
    client.on("data", (chunk: Buffer) => {
      if (!holding && (chunk.includes(marker) || (opts.every && anyHeld))) {
        holding = true;
        anyHeld = true;
        held();
      }
      if (holding) void released.then(() => upstream.write(chunk));
      else upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      a.on("error", () => b.destroy());
      a.on("close", () => b.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    uri: `mongodb://127.0.0.1:${port}${target.pathname}${target.search}`,
    seen,
    release,
    close: () => {
      release();
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
