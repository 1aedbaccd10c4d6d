// The operator's own version, recorded as runDetails.builder.version['slsa-ml'].
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const OPERATOR_VERSION: string = (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
