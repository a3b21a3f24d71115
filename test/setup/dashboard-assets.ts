/**
 * Vitest global setup: regenerates src/dashboard/assets.gen.ts before any test imports the
 * gateway, so an edit to src/dashboard/client/ is tested without a reinstall.
 */
import { writeDashboardAssets } from '../../scripts/dashboard-assets.js'

export function setup(): void {
  writeDashboardAssets()
}
