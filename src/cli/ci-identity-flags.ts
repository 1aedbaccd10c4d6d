// Shorthands for the keyless identities of CI platforms, expanded exactly as Fulcio forms their
// certificates: a GitLab job's SAN is https://<ci_config_ref_uri>, i.e.
// https://<host>/<group>/<project>//<config path>@<ref>, and its issuer the instance's URL; a
// Cloud Build step signs as the build's service account, issued by Google.
import { UsageError } from './errors.ts';
import type { FlagSpecs, ParsedFlags } from './flags.ts';

export const CI_IDENTITY_FLAGS: FlagSpecs = {
  'gitlab-project': { type: 'string' },
  'gitlab-ref': { type: 'string' },
  'gitlab-host': { type: 'string' },
  'gitlab-allow-merge-request-pipelines': { type: 'boolean' },
  'cloud-build-service-account': { type: 'string' },
};

export const CI_IDENTITY_HELP = `  --gitlab-project GROUP/PROJECT
                                keyless, signed by slsa-ml attest-ci in a GitLab CI/CD job: the project
                                whose pipeline definition signed (the certificate's SAN
                                https://HOST/GROUP/PROJECT//.gitlab-ci.yml@REF); needs --gitlab-ref
  --gitlab-ref REF              with --gitlab-project: the ref whose pipeline signed, refs/heads/BRANCH
                                or refs/tags/TAG; a trailing * matches any rest (refs/tags/v*)
  --gitlab-host HOST            with --gitlab-project: the GitLab instance (default gitlab.com; the
                                issuer is https://HOST)
  --gitlab-allow-merge-request-pipelines
                                keyless: also accept a certificate of a GitLab merge-request pipeline
                                (refused by default: it runs the MR's source branch, a fork's too,
                                as this project, with that branch's name as its ref)
  --cloud-build-service-account EMAIL
                                keyless, signed in a Cloud Build step: the build's service account
                                (issuer https://accounts.google.com)`;

export const GOOGLE_ISSUER = 'https://accounts.google.com';

export interface CiIdentity {
  readonly certificateIdentity: string | RegExp;
  readonly oidcIssuer: string;
  readonly description: string;
}

const PROJECT = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;
const HOST = /^[A-Za-z0-9.-]+(:\d+)?$/;
const REF = /^refs\/(heads|tags)\/[^\s@*]+\*?$|^refs\/(heads|tags)\/\*$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The identity a CI shorthand names, or undefined when none is given. */
export function ciIdentityFromFlags(flags: ParsedFlags): CiIdentity | undefined {
  const project = flags.strings.get('gitlab-project');
  const account = flags.strings.get('cloud-build-service-account');
  if (project === undefined) {
    const stray = ['gitlab-ref', 'gitlab-host'].find((f) => flags.strings.has(f));
    if (stray) throw new UsageError(`--${stray} goes with --gitlab-project`);
  }
  if (project !== undefined && account !== undefined) throw new UsageError('--gitlab-project and --cloud-build-service-account cannot be used together: choose one signer identity');
  if (project === undefined && account === undefined) return undefined;
  const explicit = ['certificate-identity', 'certificate-identity-regexp', 'certificate-oidc-issuer'].find((f) => flags.strings.has(f));
  const shorthand = project === undefined ? '--cloud-build-service-account' : '--gitlab-project';
  if (explicit) throw new UsageError(`${shorthand} sets the certificate identity and issuer itself: drop --${explicit}`);
  return project === undefined ? cloudBuild(account ?? '') : gitlab(project, flags.strings.get('gitlab-ref'), flags.strings.get('gitlab-host') ?? 'gitlab.com');
}

function gitlab(project: string, ref: string | undefined, host: string): CiIdentity {
  const path = project.replace(/^\/+|\/+$/g, '');
  if (!PROJECT.test(path)) throw new UsageError(`--gitlab-project ${project}: expected GROUP/PROJECT (subgroups allowed), e.g. acme/models`);
  if (!HOST.test(host)) throw new UsageError(`--gitlab-host ${host}: expected a host name, e.g. gitlab.example.com (no scheme, no path)`);
  // Pinning a ref is what makes the identity mean something: anyone who may push to a branch can
  // change its pipeline definition, and so sign as it.
  if (ref === undefined) throw new UsageError('--gitlab-project needs --gitlab-ref REF: the ref whose pipeline may sign, e.g. refs/heads/main or refs/tags/v*');
  if (!REF.test(ref)) throw new UsageError(`--gitlab-ref ${ref}: expected refs/heads/BRANCH or refs/tags/TAG (a trailing * matches any rest), as Fulcio records it`);
  const refPattern = ref.endsWith('*') ? `${escape(ref.slice(0, -1))}[^@]+` : escape(ref);
  return {
    certificateIdentity: new RegExp(`^https://${escape(host)}/${escape(path)}//[^@]+@${refPattern}$`),
    oidcIssuer: `https://${host}`,
    description: `GitLab project ${path} at ${ref} (issuer https://${host})`,
  };
}

function cloudBuild(account: string): CiIdentity {
  if (!EMAIL.test(account)) throw new UsageError(`--cloud-build-service-account ${account}: expected a service account email, e.g. builder@project.iam.gserviceaccount.com`);
  return { certificateIdentity: account, oidcIssuer: GOOGLE_ISSUER, description: `service account ${account}` };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
