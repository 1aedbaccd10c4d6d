// Policy files: the policy flags as one YAML mapping, refused key by key, and a digest over the
// normalized rules that stays the same however the file is written.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { PolicyError, canonicalRules, parsePolicy, policyDigest } from '../../src/policy/index.ts';

const POLICY = `# the serving policy
name: https://acme.example/policies/serving/v1
builder-id: https://slsa-ml.dev/operator/prod
source-repo: github.com/acme/cifar10
source-ref: EC0B4F0B5C90ED0FA911A2972CCC452641B31563
namespace: team-vision
max-age: 30d
deny:
  - 'pkg:pypi/torch@<2.6.0'
  - pkg:pypi/numpy@<1.0
require-model-signature: true
`;

function refused(yaml: string, message: RegExp): void {
  assert.throws(() => parsePolicy(yaml, 'p.yaml'), (err: unknown) => {
    assert.ok(err instanceof PolicyError, String(err));
    assert.equal(err.code, 'BAD_POLICY');
    assert.match(err.message, message);
    return true;
  });
}

describe('when a policy file is read', () => {
  it('takes every policy flag as a key, and the name apart from the rules', () => {
    const policy = parsePolicy(POLICY, 'p.yaml');
    assert.equal(policy.name, 'https://acme.example/policies/serving/v1');
    assert.equal(policy.rules.builderId, 'https://slsa-ml.dev/operator/prod');
    assert.equal(policy.rules.sourceRepo, 'github.com/acme/cifar10');
    assert.equal(policy.rules.namespace, 'team-vision');
    assert.equal(policy.rules.maxAgeMs, 30 * 86_400_000);
    assert.deepEqual(policy.rules.deny?.map((r) => r.text), ['pkg:pypi/torch@<2.6.0', 'pkg:pypi/numpy@<1.0']);
    assert.equal(policy.rules.requireModelSignature, true);
    assert.match(policy.digest, /^[0-9a-f]{64}$/);
  });

  it('gives the normalized rules under the file\'s key names, which read back to the same digest', () => {
    const policy = parsePolicy(POLICY, 'p.yaml');
    const canonical = canonicalRules(policy.rules);
    assert.deepEqual(canonical, {
      'builder-id': 'https://slsa-ml.dev/operator/prod',
      'source-repo': 'github.com/acme/cifar10',
      'source-ref': 'ec0b4f0b5c90ed0fa911a2972ccc452641b31563',
      namespace: 'team-vision',
      'max-age': '2592000s',
      deny: ['pkg:pypi/torch@<2.6.0', 'pkg:pypi/numpy@<1.0'],
      'require-model-signature': true,
    });
    assert.equal(parsePolicy(JSON.stringify(canonical), 'canonical.json').digest, policy.digest);
  });

  it('keeps its digest whatever the comments, key order, quoting, flow style and duration spelling', () => {
    const same = `{require-model-signature: true, deny: ["pkg:pypi/torch@<2.6.0", 'pkg:pypi/numpy@<1.0'], max-age: "720h",
      namespace: team-vision, source-ref: ec0b4f0b5c90ed0fa911a2972ccc452641b31563, "source-repo": github.com/acme/cifar10,
      builder-id: 'https://slsa-ml.dev/operator/prod'}`;
    assert.equal(parsePolicy(same, 'q.yaml').digest, parsePolicy(POLICY, 'p.yaml').digest);
  });

  it('is the SHA-256 of the canonical JSON: a pinned value for a pinned policy', () => {
    const policy = parsePolicy('builder-id: https://slsa-ml.dev/operator/prod\ndeny: [pkg:pypi/torch@<2.6.0]\n', 'p.yaml');
    // sha256 of {"builder-id":"https://slsa-ml.dev/operator/prod","deny":["pkg:pypi/torch@<2.6.0"]}
    assert.equal(policy.digest, 'af4635751483daf8e0d098e4076ea888a82e9dd2da28c9ff70a36c8192e5718a');
    assert.equal(policyDigest(policy.rules), policy.digest);
  });

  it('changes its digest when a rule changes, and not when only the name does; deny order counts', () => {
    const base = parsePolicy(POLICY, 'p.yaml').digest;
    assert.notEqual(parsePolicy(POLICY.replace('30d', '31d'), 'p.yaml').digest, base);
    assert.notEqual(parsePolicy(POLICY.replace('require-model-signature: true', 'require-model-signature: false'), 'p.yaml').digest, base);
    assert.equal(parsePolicy(POLICY.replace('serving/v1', 'serving/v2'), 'p.yaml').digest, base);
    const swapped = POLICY.replace("  - 'pkg:pypi/torch@<2.6.0'\n  - pkg:pypi/numpy@<1.0", "  - pkg:pypi/numpy@<1.0\n  - 'pkg:pypi/torch@<2.6.0'");
    assert.notEqual(parsePolicy(swapped, 'p.yaml').digest, base);
  });

  it('treats require-model-signature: false, and an empty deny list, as not there', () => {
    assert.equal(parsePolicy('require-model-signature: false\ndeny: []\n', 'p.yaml').digest, parsePolicy('{}', 'p.yaml').digest);
  });
});

describe('when a policy file is wrong, it is refused naming the file and the key', () => {
  it('an unknown key, and trust that belongs on the command line', () => {
    refused('buildr-id: x\n', /^policy file p\.yaml: key buildr-id: unknown key \(known: name, builder-id/);
    refused('key: cosign.pub\n', /key key: unknown key .*whom to trust is given on the command line/);
    refused('--deny: [pkg:pypi/torch]\n', /key --deny: unknown key/);
  });

  it('a value of the wrong type', () => {
    refused('builder-id: 3\n', /^policy file p\.yaml: key builder-id: must be a string, got number 3$/);
    refused('namespace: [a, b]\n', /key namespace: must be a string, got a list/);
    refused('name: {a: b}\n', /key name: must be a string, got a mapping/);
    refused('max-age: 30\n', /key max-age: must be a duration such as 30d or 12h, got number 30/);
    refused('deny: pkg:pypi/torch\n', /key deny: must be a list of package URL rules, got string/);
    refused('require-model-signature: "yes"\n', /key require-model-signature: must be true or false, got string "yes"/);
    refused('source-repo:\n', /key source-repo: must be a string, got no value/);
    refused('builder-id: "  "\n', /key builder-id: must not be empty/);
  });

  it('a value its flag would refuse, with the flag\'s own reason', () => {
    refused('max-age: 30 days\n', /key max-age: "30 days" is not a duration/);
    refused('source-ref: main\n', /key source-ref: "main" is neither a full commit/);
    refused('deny: [pkg:pypi/torch@<2.6.0, "torch<2.6"]\n', /key deny: item 2: "torch<2\.6": expected a package URL/);
    refused('deny: [pkg:pypi/torch@2.11.x]\n', /key deny: item 1: .*pkg:pypi\/torch@2\.11\.x/);
  });

  it('anything but one YAML mapping', () => {
    refused('', /^policy file p\.yaml: is empty/);
    refused('- builder-id: x\n', /must be a mapping of rules, got a list/);
    refused('just text\n', /must be a mapping of rules, got string/);
    refused('builder-id: a\n---\nbuilder-id: b\n', /holds 2 YAML documents/);
    refused('builder-id: a\nbuilder-id: b\n', /not valid YAML: Map keys must be unique at line 2/);
    refused('deny: [a\n', /not valid YAML/);
  });
});
