// Container image IDs as the kubelet reports them in status.steps[].imageID / status.sidecars[].imageID:
// "repo@sha256:<hex>", "docker-pullable://repo@sha256:<hex>", or just "sha256:<hex>" for an image
// that has no repository digest (loaded into the node directly). Chains turns the first two into
// {uri: "oci://repo", digest: {sha256}}; the third has no repository to name, so only its digest.
import { isSha256Hex } from './digest-syntax.ts';
import { ProvenanceError } from './errors.ts';

export interface ImageRef {
  uri?: string;
  digest: { sha256: string };
}

const RUNTIME_PREFIXES = ['docker-pullable://', 'docker://'];

export function parseImageId(imageId: string, where: string): ImageRef {
  let rest = imageId.trim();
  for (const prefix of RUNTIME_PREFIXES) if (rest.startsWith(prefix)) rest = rest.slice(prefix.length);
  const at = rest.lastIndexOf('@');
  const repository = at < 0 ? undefined : rest.slice(0, at);
  const digest = at < 0 ? rest : rest.slice(at + 1);
  const hex = digest.startsWith('sha256:') ? digest.slice('sha256:'.length) : '';
  if (!isSha256Hex(hex) || repository === '' || repository?.includes('@')) {
    throw new ProvenanceError('BAD_IMAGE_ID', `${where}: image ID ${JSON.stringify(imageId)} is not <repository>@sha256:<hex>`);
  }
  return repository === undefined ? { digest: { sha256: hex } } : { uri: `oci://${repository}`, digest: { sha256: hex } };
}
