/**
 * Where the vendored test data lives (test/fixtures, inside the repository: a clone needs nothing
 * beside it). Each folder has a SOURCE note (repository and pinned commit) and the data's LICENSE.
 * The environment overrides let a run point at another copy, e.g. a newer suite.
 */
import { resolve } from "node:path";

export const FIXTURES_DIR = resolve(import.meta.dirname, "../fixtures");

/** The official JSON-Schema-Test-Suite (`JSON_SCHEMA_TEST_SUITE` overrides). */
export const JSON_SCHEMA_SUITE_DIR =
  process.env.JSON_SCHEMA_TEST_SUITE ?? resolve(FIXTURES_DIR, "json-schema-test-suite");

/** Stripe's example objects of every API resource (stripe/openapi `fixtures3.json`). */
export const STRIPE_FIXTURES_FILE = resolve(FIXTURES_DIR, "stripe/fixtures3.json");

/** The bench schema and documents (`JSON_SCHEMA_BENCH_DIR` overrides). */
export const BENCH_DIR = process.env.JSON_SCHEMA_BENCH_DIR ?? resolve(FIXTURES_DIR, "bench");
