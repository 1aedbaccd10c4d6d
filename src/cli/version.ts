// slsa-ml's own version (package.json), recorded by attest as runDetails.builder.version.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CLI_VERSION: string = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
