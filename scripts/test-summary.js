// Prints the failed tests by name, then one closing line over all vitest runs: "N passed, N failed, N skipped".
import {existsSync, readFileSync} from 'node:fs'
import {relative} from 'node:path'

let passed = 0
let failed = 0
let skipped = 0
const failures = []
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    failed += 1
    failures.push(`${file}: that test run did not finish`)
    continue
  }
  const r = JSON.parse(readFileSync(file, 'utf8'))
  passed += r.numPassedTests
  // A file that failed to load counts once; its tests never ran.
  failed += r.numFailedTests + (r.success === false && r.numFailedTests === 0 ? 1 : 0)
  skipped += r.numPendingTests + r.numTodoTests
  for (const suite of r.testResults ?? []) {
    const where = `${file}: ${relative(process.cwd(), suite.name)}`
    const bad = (suite.assertionResults ?? []).filter((t) => t.status === 'failed')
    for (const t of bad) failures.push(`${where} > ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`)
    if (bad.length === 0 && suite.status === 'failed') failures.push(`${where}: ${firstLine(suite.message)}`)
  }
}
for (const line of failures) process.stdout.write(`FAILED ${line}\n`)
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`)

function firstLine(text) {
  return (text ?? '').split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 300) ?? ''
}
