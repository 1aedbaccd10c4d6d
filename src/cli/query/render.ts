// query's answer: the affected models as a table (or JSON), then every provenance object that
// could not be verified — those are not trusted, so they are neither affected nor cleared.
import type { Inspection } from './inspect.ts';
import type { Selected } from './select.ts';

export interface AffectedModel {
  readonly model: string;
  readonly provenance: string;
  readonly namespace?: string;
  /** The Tekton run's name: a TaskRun's, or a PipelineRun's when runKind says so. */
  readonly taskRun?: string;
  readonly runKind?: 'TaskRun' | 'PipelineRun';
  /** A model trained in GitHub Actions: the workflow (repository/path@ref) instead of a TaskRun. */
  readonly workflow?: { readonly repository?: string; readonly path?: string; readonly ref?: string };
  /** The TaskRun's or PipelineRun's uid, or the workflow run's URL. */
  readonly uid?: string;
  readonly finishedOn?: string;
  readonly builderId?: string;
  readonly selected: Selected;
}

/** Filled in as results arrive: counts for everything, entries only for what is reported. */
export interface QueryAnswer {
  readonly under: string;
  scanned: number;
  verified: number;
  readonly affected: AffectedModel[];
  readonly unverifiable: Array<Extract<Inspection, { verified: false }>>;
}

export function renderTable(answer: QueryAnswer): string {
  const rows = [['MODEL', 'RUN', 'ID', 'MATCHED', 'FINISHED']];
  for (const a of answer.affected) {
    const matched = [...a.selected.matched, ...a.selected.undecidable.map((u) => `${u} (version not comparable)`)].join(', ');
    rows.push([a.model, runName(a), a.uid ?? '?', matched, a.finishedOn ?? '?']);
  }
  const lines = answer.affected.length > 0 ? table(rows) : ['no affected models'];
  lines.push('', `${answer.scanned} provenance file(s) under ${answer.under}: ${answer.verified} verified, ${answer.affected.length} affected, ${answer.unverifiable.length} unverifiable`);
  if (answer.unverifiable.length > 0) {
    lines.push('', 'UNVERIFIABLE (not trusted; not counted as affected or clear):');
    for (const u of answer.unverifiable) lines.push(`  ${u.provenance}  ${u.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderJson(answer: QueryAnswer): string {
  return `${JSON.stringify(
    {
      under: answer.under,
      scanned: answer.scanned,
      verified: answer.verified,
      affected: answer.affected.map((a) => ({
        model: a.model,
        provenance: a.provenance,
        // As in verify's JSON: the run's own key holds it (taskRun, pipelineRun or workflow), the others are null.
        taskRun: !a.workflow && a.runKind !== 'PipelineRun' ? tektonRunJson(a) : null,
        pipelineRun: a.runKind === 'PipelineRun' ? tektonRunJson(a) : null,
        workflow: a.workflow
          ? { repository: a.workflow.repository ?? null, path: a.workflow.path ?? null, ref: a.workflow.ref ?? null, run: a.uid ?? null }
          : null,
        finishedOn: a.finishedOn ?? null,
        builderId: a.builderId ?? null,
        matched: a.selected.matched,
        undecidable: a.selected.undecidable,
      })),
      unverifiable: answer.unverifiable.map((u) => ({ provenance: u.provenance, model: u.model, reason: u.reason })),
    },
    null,
    2,
  )}\n`;
}

function tektonRunJson(a: AffectedModel): Record<string, string | null> {
  return { namespace: a.namespace ?? null, name: a.taskRun ?? null, uid: a.uid ?? null };
}

/** `namespace/name` of a TaskRun, `namespace/name (PipelineRun)` of a PipelineRun, `repository/path@ref` of a GitHub workflow. */
function runName(a: AffectedModel): string {
  if (a.runKind === 'PipelineRun') return `${a.namespace ?? '?'}/${a.taskRun ?? '?'} (PipelineRun)`;
  if (!a.workflow) return `${a.namespace ?? '?'}/${a.taskRun ?? '?'}`;
  const repository = (a.workflow.repository ?? '?').replace(/^https:\/\//, '');
  return `${repository}/${a.workflow.path ?? '?'}@${a.workflow.ref ?? '?'}`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}
