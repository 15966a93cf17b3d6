// The experiment module's public face: load and validate a file, the types the runner reads.
export { loadExperiment, mergeExperiment, type LoadOptions } from './loader.js'
export { validateCommand, type ValidateOptions } from './validate-command.js'
export { validateExperiment, parseMetricSelector, isProcessOfRun, PROVIDER_ARGS, NEEDS, FLEETS, TOP_LEVEL_KEYS } from './schema.js'
export { applySets, parseSetPath, parseSetValue } from './sets.js'
export { InvalidExperiment, formatIssue, type Issue } from './errors.js'
export { parseDuration, formatDuration } from './duration.js'
export * from './defaults.js'
export * from './types.js'
