/**
 * Entry of cc-event-client (`npx tsx scripts/cc-event-client.ts --help`).
 */
import { main } from './cc-event-client/main.ts';

process.exitCode = await main(process.argv.slice(2), process);
