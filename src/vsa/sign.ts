// Signs a summary with the same Signer, DSSE envelope and Sigstore bundle v0.3 as provenance, so a
// key, a Cloud KMS key and keyless signing all work, and cosign reads it as it reads provenance.
import type { JsonObject } from '../provenance/index.ts';
import { signStatement, type Signer } from '../signing/index.ts';
import { serializeSummary } from './statement.ts';

/** The summary's `.sigstore.json` contents. */
export async function signSummary(statement: JsonObject, signer: Signer): Promise<string> {
  return (await signStatement(serializeSummary(statement), signer)).bundleJson;
}
