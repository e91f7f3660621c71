/**
 * Port helpers for local runs and tests (dev tooling, never imported by the Worker).
 */
import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: the OS picks it (listen on port 0), we read
 * it and close. Another process may still grab it before the caller binds, so callers that spawn
 * servers should retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close((closeError) => {
        if (closeError) reject(closeError);
        else if (port === 0) reject(new Error("freePort: the OS did not report a port"));
        else resolve(port);
      });
    });
  });
}
