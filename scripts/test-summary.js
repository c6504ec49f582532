// Prints one closing line over all vitest runs: "N passed, N failed, N skipped".
import {existsSync, readFileSync} from 'node:fs'

let passed = 0
let failed = 0
let skipped = 0
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    failed += 1
    process.stderr.write(`no results in ${file}: that test run did not finish\n`)
    continue
  }
  const r = JSON.parse(readFileSync(file, 'utf8'))
  passed += r.numPassedTests
  // A file that failed to load counts once; its tests never ran.
  failed += r.numFailedTests + (r.success === false && r.numFailedTests === 0 ? 1 : 0)
  skipped += r.numPendingTests + r.numTodoTests
}
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`)
