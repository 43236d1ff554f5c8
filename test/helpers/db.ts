/** Per-test-file database on the suite's server (started by test/global-setup.ts). */
import { randomBytes } from "node:crypto";
import path from "node:path";
import mongoose from "mongoose";
import { expect, inject } from "vitest";

export interface TestDb {
  conn: mongoose.Connection;
  dbName: string;
  uri: string;
  /** `MONGODB_URI` for a child process that should use this database. */
  processUri: string;
  /** Drops the database and closes the connection. */
  close(): Promise<void>;
}

/** Database name unique per test file and run: `t_<file basename>_<random>`, at most 38 chars. */
function testDbName(): string {
  const file = expect.getState().testPath ?? "unknown";
  const base = path
    .basename(file)
    .replace(/\.test\.[cm]?[jt]sx?$/, "")
    .replace(/[^A-Za-z0-9_]/g, "_")
    .slice(0, 24);
  return `t_${base}_${randomBytes(5).toString("hex")}`;
}

/** Connects to a fresh database for the calling test file. */
export async function connectTestDb(): Promise<TestDb> {
  const uri = inject("mongoUri");
  const dbName = testDbName();
  const conn = await mongoose.createConnection(uri, { dbName }).asPromise();
  let closed = false;
  return {
    conn,
    dbName,
    uri,
    processUri: uri.replace(/\/?$/, "/") + dbName,
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await conn.dropDatabase();
      } finally {
        await conn.close();
      }
    },
  };
}
