// Bundles the CLI: dist/cli/oclif.js (what bin/run.js loads), one file per command under dist/commands (found by
// oclif through the manifest) and shared chunks, so that a cold start reads a handful of files instead of
// hundreds. oclif and its plugins are bundled, so they share one @oclif/core (the plugins' commands are cms's own
// command files: no plugin is loaded at start-up). Other runtime dependencies stay in node_modules: they load only in
// the commands that use them (ssh2 also has optional native parts).
import {readFileSync, readdirSync} from 'node:fs'
import {build} from 'esbuild'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
// Bundled rather than loaded from node_modules: @oclif/core (every command) and @aws-sdk/client-ec2, whose
// CommonJS build loads every EC2 operation (~0.8 s); bundled from its ES build, only the operations cms uses
// remain (~0.1 s), in chunks that only the aws provider's code paths load.
const bundled = new Set(['@oclif/core', '@aws-sdk/client-ec2'])
const external = [
  ...Object.keys(pkg.dependencies).filter((name) => !name.startsWith('@oclif/') && !bundled.has(name)),
  // Required by oclif only for TypeScript development setups, never by the built CLI.
  'typescript',
  'ts-node',
  'tsx',
  'pnpapi',
]

const commands = readdirSync('src/commands', {recursive: true, encoding: 'utf8'})
  .filter((file) => file.endsWith('.ts'))
  .map((file) => `src/commands/${file}`)

await build({
  // not-found.ts is oclif's command_not_found hook (package.json oclif.hooks), loaded only when that happens.
  entryPoints: ['src/cli/oclif.ts', 'src/cli/not-found.ts', ...commands],
  outbase: 'src',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  // ES builds first, so the AWS SDK tree-shakes (oclif resolves through its package exports either way).
  mainFields: ['module', 'main'],
  external,
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  // oclif is CommonJS and calls require(); an ES module has none unless given one.
  banner: {js: "import {createRequire as __cmsCreateRequire} from 'node:module';const require=__cmsCreateRequire(import.meta.url);"},
})
