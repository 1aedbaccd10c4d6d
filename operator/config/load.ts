// loadConfig: defaults < the mounted file < SLSA_ML_* environment variables, then validated.
import { readFileSync } from 'node:fs';
import { buildConfig } from './build.ts';
import { defaultConfig } from './defaults.ts';
import { readEnvironment } from './env-source.ts';
import { ConfigError } from './errors.ts';
import { Fields } from './fields.ts';
import { parseConfigFile } from './file-source.ts';
import { mergeLayers, type Layer } from './merge.ts';
import { envName, type RawTree } from './schema.ts';
import type { OperatorConfig } from './types.ts';

export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv): OperatorConfig {
  const layers: Layer[] = [];
  if (path !== undefined) {
    const tree = parseConfigFile(readConfigText(path), path);
    layers.push({ tree, origin: () => path });
  }
  layers.push({ tree: readEnvironment(env), origin: (field) => envName(field.split('.')) });
  const defaults: Layer = { tree: structuredClone(defaultConfig()) as unknown as RawTree, origin: () => 'defaults' };
  return buildConfig(new Fields(mergeLayers([defaults, ...layers])));
}

function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('', `cannot read the config file: ${(err as Error).message}`, { cause: err, origin: path });
  }
}
