// Starts fauxqs quietly for trailguard's tests (see internal/testpeers).
//
//   node server.mjs PORT
//
// fauxqs' own startFauxqs() always listens on 0.0.0.0; test servers here must
// bind 127.0.0.1 only, so this builds the same app and listens on loopback.
// The process exits when its standard input closes, so a test binary that dies
// without running its cleanups does not leave an orphan server behind.
import { buildApp } from "fauxqs";

const port = Number.parseInt(process.argv[2] ?? process.env.FAUXQS_PORT ?? "", 10);
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node server.mjs PORT");
  process.exit(2);
}
const app = buildApp({ logger: false });
await app.listen({ port, host: "127.0.0.1" });
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
