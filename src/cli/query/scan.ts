// Walks every provenance object under a prefix as the listing streams in, verifies each with
// bounded concurrency, and hands each verdict to the caller. A model has two siblings; its
// bundle is inspected, and its envelope only when there is no bundle.
import { BUNDLE_SUFFIX, ENVELOPE_SUFFIX, isSummaryName } from '../../layout/index.ts';
import type { Storage } from '../../storage/index.ts';
import { forEachBounded } from './bounded.ts';
import { inspectProvenance, type Inspection, type InspectOptions } from './inspect.ts';

export interface ScanOptions extends InspectOptions {
  readonly concurrency: number;
}

export async function scanProvenance(under: string, options: ScanOptions, onResult: (inspection: Inspection) => void): Promise<void> {
  await forEachBounded(provenanceObjects(options.storage, under), options.concurrency, async (uri) => {
    if (uri.endsWith(ENVELOPE_SUFFIX) && (await hasBundle(options.storage, uri))) return;
    onResult(await inspectProvenance(uri, options));
  });
}

async function* provenanceObjects(storage: Storage, under: string): AsyncIterable<string> {
  for await (const object of storage.list(under)) {
    // A verification summary ends in .sigstore.json too, but says nothing about how a model was made.
    if (isSummaryName(object.uri)) continue;
    if (object.uri.endsWith(BUNDLE_SUFFIX) || object.uri.endsWith(ENVELOPE_SUFFIX)) yield object.uri;
  }
}

async function hasBundle(storage: Storage, envelopeUri: string): Promise<boolean> {
  const bundle = envelopeUri.slice(0, -ENVELOPE_SUFFIX.length) + BUNDLE_SUFFIX;
  return (await storage.stat(bundle)) !== undefined;
}
