/**
 * Vitest global setup: starts (or finds) one database server for the whole run and hands its
 * URI to the test files (`inject("mongoUri")`, see test/helpers/db.ts). Each test file uses its
 * own database name on it, so files can run in parallel.
 */
import type { TestProject } from "vitest/node";
import { createLogger } from "../src/core/logger.js";
import { startTestDatabase } from "../src/store/db-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Connection string of the suite's database server (no database name). */
    mongoUri: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logger = createLogger(process.env.SHOPOPS_TEST_LOG_LEVEL === "debug" ? "debug" : "warn", { scope: "test-db" });
  const server = await startTestDatabase({ logger });
  console.log(`[shopops tests] database: ${server.description}`);
  project.provide("mongoUri", server.uri);
  return async () => {
    await server.stop();
  };
}
