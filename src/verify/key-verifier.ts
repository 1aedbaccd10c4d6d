// Verifies against one public key (a PEM file, or a KMS key version's public key). A bundle goes
// through @sigstore/verify: no certificate or timestamp to count, and a transparency-log entry
// required exactly when the trust material names a log (cosign's semantics for --key): then the
// bundle must carry an entry of one of those logs, checked against its checkpoint and proof. With
// no log named (or --insecure-ignore-tlog), entries are set aside unchecked: @sigstore/verify would
// fail any it cannot check, where cosign skips them. A bare envelope is checked here with the DSSE PAE.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

import type { TrustMaterial } from '@sigstore/verify';

import { isPrivateKeyLabel, pemLabel, pemSha256Hint, preAuthEncoding, sshFingerprint } from '../signing/index.ts';
import type { Envelope, EnvelopeSignature, ProvenanceDocument } from './document.ts';
import { VerifyError } from './errors.ts';
import { failed, passed, type CheckOutcome } from './result.ts';
import type { SignatureVerdict, SignatureVerifier } from './signature-verifier.ts';
import { isOutcome, readBundle, verifyBundle } from './sigstore-verify.ts';

const NO_THRESHOLDS = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };
const ONE_LOG_ENTRY = { ...NO_THRESHOLDS, tlogThreshold: 1 };

export interface KeyVerifierLogs {
  /** The logs a signature must be in; none: no entry required or checked. */
  readonly logs: TrustMaterial['tlogs'];
  readonly ignoreTlog: boolean;
}

/** The bundle's verificationMaterial.publicKey.hint, or '' (a bare envelope has none). */
function bundleHint(document: ProvenanceDocument): string {
  const material = document.bundleJson?.verificationMaterial as { publicKey?: { hint?: unknown } } | undefined;
  return typeof material?.publicKey?.hint === 'string' ? material.publicKey.hint : '';
}

export class PublicKeyVerifier implements SignatureVerifier {
  readonly #key: KeyObject;
  readonly #fingerprint: string;
  readonly #logs: TrustMaterial['tlogs'];

  constructor(publicKeyPem: string, logs: KeyVerifierLogs = { logs: [], ignoreTlog: false }) {
    this.#logs = logs.ignoreTlog ? [] : logs.logs;
    // Node derives a public key from a private one without a word: a private key handed to a
    // verifier is a mistake (and a leak) that should be named, not silently accepted.
    if (isPrivateKeyLabel(pemLabel(publicKeyPem))) {
      throw new VerifyError('KEY_IS_PRIVATE', 'this is a private key; verify with the public key (e.g. cosign.pub), and keep the private key secret');
    }
    try {
      this.#key = createPublicKey(publicKeyPem);
      this.#fingerprint = sshFingerprint(this.#key);
    } catch (cause) {
      throw new VerifyError('KEY_INVALID', 'verification key is not an ECDSA P-256 public key in PEM', cause);
    }
  }

  verify(document: ProvenanceDocument): Promise<SignatureVerdict> {
    const outcome = document.bundleJson ? this.#verifyBundle(document.bundleJson)
      : this.#logs.length > 0 ? failed('TLOG_MISSING', 'a bare DSSE envelope carries no transparency-log entry, and the trusted root names a log: verify the .sigstore.json bundle (--insecure-ignore-tlog to accept the envelope alone)')
        : this.#verifyEnvelope(document.envelope);
    const signature = document.envelope.signatures[0];
    if (outcome.ok) return Promise.resolve({ outcome, signer: { kind: 'key', fingerprint: this.#fingerprint }, publicKeyPem: this.#publicKeyPem() });
    return Promise.resolve({ outcome: signature ? this.#explain(outcome, signature, bundleHint(document)) : outcome });
  }

  #verifyBundle(json: Readonly<Record<string, unknown>>): CheckOutcome {
    const bundle = readBundle(json);
    if (isOutcome(bundle)) return bundle;
    if (bundle.verificationMaterial.content.$case !== 'publicKey') {
      return failed('SIGNED_WITH_CERTIFICATE', 'this bundle is signed keyless, with a certificate, not with a key: verify it with --certificate-identity, --certificate-oidc-issuer and --trusted-root');
    }
    const entries = bundle.verificationMaterial.tlogEntries.length;
    if (this.#logs.length === 0) {
      const unchecked = { ...bundle, verificationMaterial: { ...bundle.verificationMaterial, tlogEntries: [] } };
      const signer = verifyBundle(unchecked, { trust: this.#trust(), options: NO_THRESHOLDS });
      return isOutcome(signer) ? signer : passed(`signed by ${this.#fingerprint}${entries > 0 ? '; its transparency-log entry not checked (no log trusted)' : ''}`);
    }
    if (entries === 0) {
      return failed('TLOG_MISSING', `no transparency-log entry, and the trusted root names ${this.#logs.map((l) => l.baseURL).join(', ')}: a signature that is not logged is refused (--insecure-ignore-tlog to accept it)`);
    }
    const signer = verifyBundle(bundle, { trust: this.#trust(), options: ONE_LOG_ENTRY });
    return isOutcome(signer) ? signer : passed(`signed by ${this.#fingerprint}, logged in ${this.#logs.map((l) => l.baseURL).join(', ')}`);
  }

  #verifyEnvelope(envelope: Envelope): CheckOutcome {
    const signature = envelope.signatures[0];
    const pae = preAuthEncoding(envelope.payloadType, envelope.payload);
    const ok = signature !== undefined && verify('sha256', pae, { key: this.#key, dsaEncoding: 'der' }, signature.sig);
    return ok ? passed(`signed by ${this.#fingerprint}`) : failed('SIGNATURE_INVALID', 'signature does not verify');
  }

  /**
   * A keyid (cosign's convention) or a bundle hint (model_signing's: the hex sha256 of the key's
   * PEM, with an empty keyid) names the signing key: when it names another key than ours, "wrong
   * key" says more than "bad signature". Neither is authenticated; they only explain a failure.
   */
  #explain(outcome: CheckOutcome, signature: EnvelopeSignature, hint: string): CheckOutcome {
    if (outcome.ok || outcome.code !== 'SIGNATURE_INVALID') return outcome;
    const named = signature.keyid !== '' ? signature.keyid : hint;
    if (named === '' || named === this.#fingerprint || named === pemSha256Hint(this.#key)) return outcome;
    const ours = signature.keyid !== '' ? this.#fingerprint : pemSha256Hint(this.#key);
    return failed('WRONG_KEY', `signed by key ${named}, expected ${ours}`);
  }

  #publicKeyPem(): string {
    return this.#key.export({ type: 'spki', format: 'pem' }).toString();
  }

  // Hints are unauthenticated, so every hint resolves to the one trusted key; the signature decides.
  #trust(): TrustMaterial {
    const key = { publicKey: this.#key, validFor: (): boolean => true };
    return { certificateAuthorities: [], timestampAuthorities: [], tlogs: this.#logs, ctlogs: [], publicKey: () => key };
  }
}
