// The bundle entry bin/run.js loads. The bundler puts oclif into a chunk that every command shares, so oclif is
// one module instance and a cold start reads a few files instead of hundreds.
export {execute} from '@oclif/core'
