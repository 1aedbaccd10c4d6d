// Which verified provenance query reports: any dependency rule or image rule that selects one
// of its resolvedDependencies. A named package whose version cannot be compared is reported
// too, marked as such: a responder would rather look at it than miss it.
import { matchDependencies, matchImages, type DependencyRule, type ImageRule, type StatementFacts } from '../../policy/index.ts';

export interface Selectors {
  readonly dependencies: ReadonlyArray<DependencyRule>;
  readonly images: ReadonlyArray<ImageRule>;
}

export interface Selected {
  /** What matched: package URLs and oci:// image references. */
  readonly matched: string[];
  /** Named packages whose version could not be compared with the range. */
  readonly undecidable: string[];
}

export function select(facts: StatementFacts, selectors: Selectors): Selected | undefined {
  const matched = new Set<string>();
  const undecidable = new Set<string>();
  for (const rule of selectors.dependencies) {
    const matches = matchDependencies(rule, facts.packages);
    for (const m of matches) (m.kind === 'match' ? matched : undecidable).add(m.purl);
    // An unreadable frameworks result might name the package: a responder would rather look.
    if (matches.length === 0) for (const u of facts.unreadableFrameworks) undecidable.add(`unreadable ${u}`);
  }
  for (const rule of selectors.images) for (const image of matchImages(rule, facts.dependencies)) matched.add(image);
  for (const purl of matched) undecidable.delete(purl);
  if (matched.size === 0 && undecidable.size === 0) return undefined;
  return { matched: [...matched], undecidable: [...undecidable] };
}
