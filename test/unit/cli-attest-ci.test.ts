// attest-ci's command line and verify's CI identity shorthands: what they accept, what they
// expand to, and the one-line errors for what they refuse.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { ciIdentityFromFlags } from '../../src/cli/ci-identity-flags.ts';
import { parseFlags } from '../../src/cli/flags.ts';
import { TRUST_FLAGS } from '../../src/cli/trust-flags.ts';
import { cli } from '../support/cli.ts';
import { startMetadataServer } from '../support/metadata-server.ts';

function identity(...args: string[]): ReturnType<typeof ciIdentityFromFlags> {
  return ciIdentityFromFlags(parseFlags(args, TRUST_FLAGS));
}

function usage(...args: string[]): string {
  try {
    identity(...args);
  } catch (err) {
    return (err as Error).message;
  }
  return '(accepted)';
}

describe('when verify is given --gitlab-project', () => {
  it('expands to the SAN Fulcio gives the project\'s pipeline definition at the ref, and the instance as issuer', () => {
    const id = identity('--gitlab-project', 'acme/ml/models', '--gitlab-ref', 'refs/heads/main');
    assert.equal(id?.oidcIssuer, 'https://gitlab.com');
    const re = id?.certificateIdentity as RegExp;
    assert.ok(re.test('https://gitlab.com/acme/ml/models//.gitlab-ci.yml@refs/heads/main'));
    assert.ok(re.test('https://gitlab.com/acme/ml/models//ci/train.yml@refs/heads/main'));
    for (const other of [
      'https://gitlab.com/mallory/models//.gitlab-ci.yml@refs/heads/main',
      'https://gitlab.com/acme/ml/models-fork//.gitlab-ci.yml@refs/heads/main',
      'https://gitlab.com/acme/ml/models//.gitlab-ci.yml@refs/heads/main-old',
      'https://gitlab.com/acme/ml/models//.gitlab-ci.yml@refs/tags/main',
      'https://gitlab.example.com/acme/ml/models//.gitlab-ci.yml@refs/heads/main',
    ]) assert.equal(re.test(other), false, other);
  });

  it('takes a self-managed host and a tag pattern', () => {
    const id = identity('--gitlab-project', 'ml/models', '--gitlab-ref', 'refs/tags/v*', '--gitlab-host', 'gitlab.example.com');
    assert.equal(id?.oidcIssuer, 'https://gitlab.example.com');
    const re = id?.certificateIdentity as RegExp;
    assert.ok(re.test('https://gitlab.example.com/ml/models//.gitlab-ci.yml@refs/tags/v1.2.0'));
    assert.equal(re.test('https://gitlab.example.com/ml/models//.gitlab-ci.yml@refs/heads/v1'), false);
    assert.equal(id?.description, 'GitLab project ml/models at refs/tags/v* (issuer https://gitlab.example.com)');
  });

  it('refuses what would pin nothing or pin wrongly, naming the flag', () => {
    assert.match(usage('--gitlab-project', 'acme/models'), /^--gitlab-project needs --gitlab-ref REF/);
    assert.match(usage('--gitlab-project', 'acme/models', '--gitlab-ref', 'main'), /^--gitlab-ref main: expected refs\/heads\/BRANCH or refs\/tags\/TAG/);
    assert.match(usage('--gitlab-project', 'models', '--gitlab-ref', 'refs/heads/main'), /^--gitlab-project models: expected GROUP\/PROJECT/);
    assert.match(usage('--gitlab-project', 'acme/models', '--gitlab-ref', 'refs/heads/main', '--gitlab-host', 'https://gitlab.com'), /^--gitlab-host https:\/\/gitlab\.com: expected a host name/);
    assert.match(usage('--gitlab-ref', 'refs/heads/main'), /^--gitlab-ref goes with --gitlab-project/);
    assert.match(usage('--gitlab-project', 'acme/models', '--gitlab-ref', 'refs/heads/main', '--certificate-oidc-issuer', 'https://gitlab.com'), /sets the certificate identity and issuer itself: drop --certificate-oidc-issuer/);
  });
});

describe('when verify is given --cloud-build-service-account', () => {
  it('expands to the email and Google\'s issuer', () => {
    assert.deepEqual(identity('--cloud-build-service-account', 'builder@p.iam.gserviceaccount.com'), {
      certificateIdentity: 'builder@p.iam.gserviceaccount.com', oidcIssuer: 'https://accounts.google.com', description: 'service account builder@p.iam.gserviceaccount.com',
    });
    assert.match(usage('--cloud-build-service-account', 'builder'), /^--cloud-build-service-account builder: expected a service account email/);
  });
});

describe('when attest-ci is run wrongly', () => {
  it('outside a CI job it says no platform was detected', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attest-ci-'));
    await writeFile(join(dir, 'model.pth'), 'x');
    const run = await cli(['attest-ci', 'model.pth'], { cwd: dir, env: {} });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^slsa-ml attest-ci: no CI platform detected \(GitLab sets GITLAB_CI=true, Cloud Build BUILD_ID and PROJECT_ID\)/);
  });

  it('refuses an unknown platform, a malformed --frameworks and --output-dir with a gs:// model', async () => {
    assert.match((await cli(['attest-ci', 'm', '--platform', 'jenkins'])).stderr, /--platform jenkins: unknown; one of gitlab/);
    assert.match((await cli(['attest-ci', 'm', '--platform', 'gitlab', '--frameworks', '["torch"]'])).stderr, /--frameworks: \[0\] is not a package URL: "torch"/);
    const gs = await cli(['attest-ci', 'gs://b/m.pth', '--platform', 'gitlab', '--output-dir', 'out', '--gcs-endpoint', 'http://127.0.0.1:9']);
    assert.equal(gs.code, 2);
    assert.match(gs.stderr, /--output-dir applies to a local MODEL: a gs:\/\/ model's provenance goes next to it/);
  });

  it('keyless, without the job\'s ID token it says how to get one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attest-ci-'));
    await writeFile(join(dir, 'model.pth'), 'x');
    const run = await cli(['attest-ci', 'model.pth'], { cwd: dir, env: { GITLAB_CI: 'true' } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /SIGSTORE_ID_TOKEN is not set: the job needs id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore/);
    const http = await cli(['attest-ci', 'model.pth', '--fulcio-url', 'http://fulcio.example.com'], { cwd: dir, env: { GITLAB_CI: 'true' } });
    assert.match(http.stderr, /--fulcio-url "http:\/\/fulcio\.example\.com": must be an https:\/\/ URL/);
  });
});

describe('when attest-ci measures the model', () => {
  // An identity token lives minutes; hashing a large model can take longer. A model that cannot be
  // measured shows the order: it fails before any token is asked for.
  it('measures it before it fetches the identity token', async () => {
    const metadata = await startMetadataServer({ email: 'trainer@acme-ml.iam.gserviceaccount.com' });
    try {
      const dir = await mkdtemp(join(tmpdir(), 'attest-ci-'));
      await mkdir(join(dir, 'model'));
      await writeFile(join(dir, 'model', 'weights.bin'), 'x');
      await symlink('/etc/hostname', join(dir, 'model', 'link'));
      const env = { BUILD_ID: 'b1', PROJECT_ID: 'acme-ml', PROJECT_NUMBER: '1', LOCATION: 'us-central1', SLSA_ML_CLOUD_BUILD_API: 'off', GCE_METADATA_HOST: metadata.host };
      const run = await cli(['attest-ci', 'model', '--fulcio-url', 'http://127.0.0.1:9', '--rekor-url', 'http://127.0.0.1:9'], { cwd: dir, env });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /link: is a symlink/);
      assert.deepEqual(metadata.requests, []);
    } finally {
      await metadata.close();
    }
  });
});
