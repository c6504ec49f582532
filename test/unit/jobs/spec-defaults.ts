/** What every parsed job spec carries when the file leaves the optional fields out. */
export const SPEC_DEFAULTS = {
  args: [],
  conf: {},
  jars: [],
  pyFiles: [],
  files: [],
  env: {},
  driver: {},
  executor: {},
  priority: 0,
  retries: 0,
  volumes: [],
} as const
