/**
 * Entry of cc-event-export (`npx tsx scripts/cc-event-export.ts --help`).
 */
import { main } from './cc-event-export/main.ts';

process.exitCode = await main(process.argv.slice(2), process);
