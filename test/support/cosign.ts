// The operator and CLI tests' entry to cosign; the verifier itself is in signing-verifiers.ts.
import { cosignVerifyBlobAttestation, type CosignArtifact, type ToolVerdict } from './signing-verifiers.ts';

export interface CosignVerify {
  readonly publicKeyPath: string;
  readonly bundlePath?: string;
  readonly envelopePath?: string;
  /** A local file model, or the sha256 hex of a directory model's root digest. */
  readonly artifact: CosignArtifact;
  /** The predicate type cosign must find (--type); default SLSA provenance v1. */
  readonly type?: string;
}

export async function cosignVerifyAttestation(args: CosignVerify): Promise<ToolVerdict> {
  if (args.bundlePath) return cosignVerifyBlobAttestation(args.publicKeyPath, { bundle: args.bundlePath }, args.artifact, args.type);
  if (args.envelopePath) return cosignVerifyBlobAttestation(args.publicKeyPath, { envelope: args.envelopePath }, args.artifact, args.type);
  throw new Error('cosignVerifyAttestation: give bundlePath or envelopePath');
}
