// Verifies an OpenSSF model-signing signature (`<model>.sig`) against whom the caller trusts and
// the model as measured, answering what `model_signing verify key|sigstore` answers: a Sigstore
// bundle whose one signature verifies, whose key hint (if any) names the trusted key, whose
// statement is a model-signing v1.0 manifest, and whose files and digests are the model's.
import { BUNDLE_V03_MEDIA_TYPE } from '@sigstore/bundle';

import {
  CheckList, failed, isStatement, parseStatement, passed, verifyEnvelope, STATEMENT_TYPE,
  type CheckOutcome, type InTotoStatement, type ProvenanceDocument, type SignatureVerdict, type SignatureVerifier, type SignedDocument, type VerificationResult,
} from '../verify/index.ts';
import { compareManifests } from './compare.ts';
import { MODEL_SIGNING_PREDICATE_TYPE } from './format.ts';
import { modelSigningKeyHint } from './key-naming.ts';
import { manifestOf, type Measured } from './manifest.ts';
import { readManifest, type SignedManifest } from './read-manifest.ts';

export interface ModelSignatureRequest {
  /** Contents of `<model>.sig`. */
  readonly signature: string | Buffer;
  readonly trust: SignatureVerifier;
  /** The model as measured, or how to measure it: called only once the signature holds. */
  readonly model: Measured | (() => Promise<Measured>);
}

export async function verifyModelSignature(request: ModelSignatureRequest): Promise<VerificationResult> {
  const checks = new CheckList();
  const signed = await verifyEnvelope(request.signature, request.trust, checks, bundleV03);
  if (!signed) return { ok: false, checks: checks.all };
  const { statement, signedManifest } = readSigned(signed, checks);
  if (signedManifest) checks.record('files', await filesOutcome(request.model, signedManifest));
  return {
    ok: checks.allPassed,
    checks: checks.all,
    ...(statement ? { statement } : {}),
    ...(signed.verdict.signer ? { signer: signed.verdict.signer } : {}),
  };
}

// Key hint, statement, manifest: each step needs the one before to hold.
function readSigned(signed: SignedDocument, checks: CheckList): { statement?: InTotoStatement; signedManifest?: SignedManifest } {
  if (signed.verdict.signer?.kind === 'key' && !checks.record('keyHint', keyHintOutcome(signed.document, signed.verdict))) return {};
  const statement = parseStatement(signed.document.envelope.payload);
  if (!isStatement(statement)) {
    checks.record('statement', statement);
    return {};
  }
  if (!checks.record('statement', statementOutcome(statement))) return { statement };
  const read = readManifest(statement);
  if (!('manifest' in read)) {
    checks.record('manifest', read);
    return { statement };
  }
  const count = read.manifest.resources.length;
  checks.record('manifest', passed(`${count} signed ${count === 1 ? 'file' : 'files'}`));
  return { statement, signedManifest: read };
}

// model_signing reads only bundles, and its key verifier only v0.3 ones.
function bundleV03(document: ProvenanceDocument): CheckOutcome {
  if (!document.bundleJson) return failed('MALFORMED', 'a model signature is a Sigstore bundle, not a bare DSSE envelope');
  const mediaType = document.bundleJson.mediaType;
  return mediaType === BUNDLE_V03_MEDIA_TYPE ? passed() : failed('MALFORMED', `bundle mediaType is ${JSON.stringify(mediaType)}, want ${BUNDLE_V03_MEDIA_TYPE}`);
}

// The hint is unsigned, but `model_signing verify key` refuses one that names another key.
function keyHintOutcome(document: ProvenanceDocument, verdict: SignatureVerdict): CheckOutcome {
  const material = document.bundleJson?.verificationMaterial as { publicKey?: { hint?: unknown } } | undefined;
  const hint = material?.publicKey?.hint;
  if (typeof hint !== 'string' || hint === '' || verdict.publicKeyPem === undefined) return passed('no key hint (model_signing warns but accepts)');
  const want = modelSigningKeyHint(verdict.publicKeyPem);
  return hint === want ? passed(`hint ${hint.slice(0, 16)}… names the trusted key`) : failed('KEY_HINT_MISMATCH', `publicKey.hint ${hint} does not name the trusted key (${want}); model_signing refuses it`);
}

function statementOutcome(statement: InTotoStatement): CheckOutcome {
  if (statement._type !== STATEMENT_TYPE) return failed('STATEMENT_TYPE', `_type is ${JSON.stringify(statement._type)}, want ${STATEMENT_TYPE}`);
  if (statement.predicateType !== MODEL_SIGNING_PREDICATE_TYPE) return failed('PREDICATE_TYPE', `predicateType is ${JSON.stringify(statement.predicateType)}, want ${MODEL_SIGNING_PREDICATE_TYPE}`);
  return passed();
}

async function filesOutcome(model: ModelSignatureRequest['model'], signed: SignedManifest): Promise<CheckOutcome> {
  let measured: Measured;
  try {
    measured = typeof model === 'function' ? await model() : model;
  } catch (err) {
    return failed('DIGEST_UNAVAILABLE', `could not measure the model: ${(err as Error).message}`);
  }
  return compareManifests(signed.manifest, manifestOf(signed.manifest.modelName, measured), signed.ignorePaths);
}
