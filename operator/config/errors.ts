/** A configuration value that cannot be used; `field` is its dotted path (e.g. `signer.keyName`). */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  readonly field: string;
  readonly reason: string;

  constructor(field: string, reason: string, options?: { cause?: unknown; origin?: string }) {
    const where = options?.origin ? ` (from ${options.origin})` : '';
    super(`invalid configuration: ${field === '' ? 'file' : field}: ${reason}${where}`, { cause: options?.cause });
    this.name = 'ConfigError';
    this.field = field;
    this.reason = reason;
  }
}
