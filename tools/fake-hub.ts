/**
 * Runs the fake Hub (src/test-util/fake-hub.ts) on its own, for manual checks of Hub loading in the
 * app (enter its URL as the Hub endpoint) or other e2e setups:
 *   node --import tsx tools/fake-hub.ts [port]
 * Serves fixtures/hub/<org>/<name> plus gated/*, broken/* and local/demo-gpt2; prints its URL.
 */
import { startFakeHub, FAKE_HUB_TOKEN } from '../src/test-util/fake-hub';

const port = Number(process.argv[2] ?? 0);
const hub = await startFakeHub({ port, aliases: { 'local/demo-gpt2': 'public/models/demo-gpt2' } });
console.log(`fake Hub at ${hub.url} (gated repos accept the token ${FAKE_HUB_TOKEN})`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void hub.close().then(() => process.exit(0)));
