// Tests that call worker code directly under Node (dedup-storage.test.ts runs the pack rewrite
// against the real database and S3 server) compile worker/src/env.ts, which names the Workers
// runtime's Fetcher binding type; Node's types have none.
interface Fetcher {
  fetch: typeof fetch;
}
