// slsa-ml's version (package.json), recorded as runDetails.builder.version['slsa-ml'].
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ACTION_VERSION: string = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
