/**
 * Prints the rollup trigger's statements for a migration (now in migrations/0011_usage_rollup_deferral.sql;
 * 0008 and 0010 were earlier versions): one trigger that adds every inserted usage row into each rollup
 * table unless its writer deferred it (src/db/rollup-sql.ts). If LATENCY_BUCKET_BOUNDS_MS or a rollup
 * table changes, write a new migration with it (it drops and recreates the trigger).
 *   npx tsx scripts/rollup-sql.ts >> migrations/NNNN_name.sql
 */
import { rollupTriggerSql } from '../src/db/rollup-sql.js'

console.log(['DROP TRIGGER IF EXISTS usage_rollup;', rollupTriggerSql()].join('\n--> statement-breakpoint\n'))
