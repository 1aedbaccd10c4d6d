// A certificate authority for client certificates (openssl CLI): the local API server trusts it
// (--client-ca-file), so tests can authenticate with certificates as kubeconfigs of real clusters do.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClientCa {
  readonly certPath: string;
  readonly keyPath: string;
}

export interface ClientCert {
  readonly cert: string;
  readonly key: string;
}

const openssl = (cwd: string, ...args: string[]): void => { execFileSync('openssl', args, { cwd, stdio: 'pipe' }); };

/** The CA the local API server of an environment trusts for client certificates (made by makeClientCa). */
export function clientCaOf(stateDir: string): ClientCa {
  return { certPath: join(stateDir, 'client-ca.crt'), keyPath: join(stateDir, 'client-ca.key') };
}

export function makeClientCa(dir: string): ClientCa {
  mkdirSync(dir, { recursive: true });
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'client-ca.key', '-out', 'client-ca.crt', '-days', '30', '-subj', '/CN=slsa-ml local client CA');
  return clientCaOf(dir);
}

/** A client certificate: the API server takes CN as the user name and each O as a group. */
export function issueClientCert(ca: ClientCa, dir: string, name: string, user: string, groups: readonly string[] = []): ClientCert {
  const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join('')}`;
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  writeFileSync(join(dir, `${name}.ext`), 'extendedKeyUsage=clientAuth\n');
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}
