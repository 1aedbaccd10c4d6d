export type { OperatorConfig, SignerSettings, StorageSettings, TokenSource, LeaderElectionSettings } from './types.ts';
export { ConfigError } from './errors.ts';
export { defaultConfig, variantDefaults, DEFAULT_MODEL_ROOT } from './defaults.ts';
export { loadConfig } from './load.ts';
export { watchConfig } from './watch.ts';
export { SCHEMA, envName, schemaLeaves, ENV_PREFIX } from './schema.ts';
