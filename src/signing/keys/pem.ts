// The label of a PEM text's first block ("PRIVATE KEY", "PUBLIC KEY", "ENCRYPTED SIGSTORE PRIVATE
// KEY", …): what kind of key a file holds, read before any parser is asked to make sense of it.
export function pemLabel(text: string): string | undefined {
  return /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
}

/** The base64 body of the first block with that label, decoded. */
export function pemBody(text: string, label: string): Buffer | undefined {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(text);
  return match?.[1] === undefined ? undefined : Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
}

export function toPem(label: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Private key labels: PKCS#8, SEC1, PKCS#1, encrypted PKCS#8, and cosign's encrypted formats. */
export function isPrivateKeyLabel(label: string | undefined): boolean {
  return label !== undefined && label.endsWith('PRIVATE KEY');
}
