// A verified model-signing statement back into a manifest, with the checks model_signing makes
// (signing.py, dsse_payload_to_manifest): one subject; the resources' digests, chained in the
// order listed, equal the subject's; the serialization says how to hash the model again. Only
// what we can hash again is accepted: files, sha256 (not shards, blake2 or blake3).
import { failed, type CheckOutcome, type InTotoStatement } from '../verify/index.ts';
import { FILES_METHOD, HASH_TYPE } from './format.ts';
import { manifestRoot, type ManifestResource, type ModelManifest } from './manifest.ts';

export interface SignedManifest {
  readonly manifest: ModelManifest;
  /** Paths relative to the model that the signer left out, and a verifier leaves out too. */
  readonly ignorePaths: readonly string[];
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

export function readManifest(statement: InTotoStatement): SignedManifest | CheckOutcome {
  if (statement.subject.length !== 1) return failed('MALFORMED', `a model signature has exactly one subject, this one ${statement.subject.length}`);
  const subject = statement.subject[0] as InTotoStatement['subject'][number];
  const root = (subject.digest.sha256 ?? '').toLowerCase();
  const predicate = statement.predicate as { serialization?: unknown; resources?: unknown };
  const serialization = readSerialization(predicate.serialization);
  if ('ok' in serialization) return serialization;
  const resources = readResources(predicate.resources);
  if (!Array.isArray(resources)) return resources;
  const chained = manifestRoot(resources);
  if (chained !== root) return failed('MANIFEST_INCONSISTENT', `the subject's sha256 is ${root || 'missing'}, but the resources chain to ${chained}`);
  return { manifest: { modelName: subject.name, resources }, ignorePaths: serialization.ignorePaths };
}

function readSerialization(value: unknown): { ignorePaths: string[] } | CheckOutcome {
  if (!isObject(value)) return failed('MALFORMED', 'predicate.serialization is missing');
  if (value.method !== FILES_METHOD) return failed('UNSUPPORTED_SERIALIZATION', `serialization method ${JSON.stringify(value.method)}: only "${FILES_METHOD}" is verified here`);
  if (value.hash_type !== HASH_TYPE) return failed('UNSUPPORTED_SERIALIZATION', `hash_type ${JSON.stringify(value.hash_type)}: only "${HASH_TYPE}" is verified here`);
  const ignore = value.ignore_paths ?? [];
  if (!Array.isArray(ignore) || !ignore.every((p) => typeof p === 'string')) return failed('MALFORMED', 'serialization.ignore_paths is not a list of paths');
  return { ignorePaths: ignore };
}

function readResources(value: unknown): ManifestResource[] | CheckOutcome {
  if (!Array.isArray(value)) return failed('MALFORMED', 'predicate.resources is not a list');
  const resources: ManifestResource[] = [];
  const names = new Set<string>();
  for (const r of value) {
    if (!isObject(r) || typeof r.name !== 'string' || typeof r.digest !== 'string') return failed('MALFORMED', 'a resource lacks its name or digest');
    if (r.algorithm !== HASH_TYPE || !HEX64.test(r.digest)) return failed('UNSUPPORTED_SERIALIZATION', `resource ${JSON.stringify(r.name)}: want a ${HASH_TYPE} digest in hex`);
    if (names.has(r.name)) return failed('MALFORMED', `resource ${JSON.stringify(r.name)} is listed twice`);
    names.add(r.name);
    resources.push({ name: r.name, sha256: r.digest.toLowerCase() });
  }
  return resources;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
