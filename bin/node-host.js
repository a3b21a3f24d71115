#!/usr/bin/env node
// Runs the TypeScript CLI through tsx (a dependency), so there is no build step.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../node-host/cli.ts')
process.exitCode = await main(process.argv.slice(2))
