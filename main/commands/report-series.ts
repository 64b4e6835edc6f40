/**
 * The de-identification report lists each change once per series: the changes made to every
 * instance of a series (most of them: the same attributes emptied, removed or replaced by the
 * same values) under the series, and under each instance only what differs, such as its own
 * new UIDs. An instance's changes are its series' `changes` followed by its own. Listing all of
 * them under every instance made the report of a 400-image disc 2.5 MB, and writing it took as
 * long as de-identifying 50 of the images.
 */
import type { AttributeChange } from '../core/deid/engine.ts';

export type ReportChange = Omit<AttributeChange, 'before'>;

/** What grouping needs of an instance's report. */
export interface GroupableReport {
  readonly studyInstanceUid?: string;
  readonly seriesInstanceUid?: string;
  readonly changes: readonly ReportChange[];
}

export interface SeriesChanges {
  /** The new UIDs (as the output folders are named). */
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  /** Instances of the series in the report (written, held back or failed after reading). */
  readonly instances: number;
  /** Made to every instance of the series. */
  readonly changes: ReportChange[];
}

export interface Grouped<R> {
  readonly series: SeriesChanges[];
  /** Per report, in order: its series' index (none without a series UID) and its own changes. */
  readonly instances: {
    readonly report: R;
    readonly series?: number;
    readonly changes: ReportChange[];
  }[];
}

/**
 * Groups the reports' changes by series. Changes are compared by value: the engine shares
 * most records between instances (one object), and each distinct object's value is read once.
 */
export function groupBySeries<R extends GroupableReport>(reports: readonly R[]): Grouped<R> {
  const byValue = new Map<string, ReportChange>();
  const canonicalOf = new Map<ReportChange, ReportChange>();
  const canonical = (change: ReportChange): ReportChange => {
    let found = canonicalOf.get(change);
    if (found === undefined) {
      const key = JSON.stringify(change);
      found = byValue.get(key) ?? change;
      byValue.set(key, found);
      canonicalOf.set(change, found);
    }
    return found;
  };

  // The series in order of first appearance, with the reports in each.
  const groups: { studyInstanceUid: string; seriesInstanceUid: string; members: number[] }[] = [];
  const indexByKey = new Map<string, number>();
  const memberships = reports.map((report, reportIndex): number | undefined => {
    if (!report.seriesInstanceUid) return undefined;
    const studyInstanceUid = report.studyInstanceUid ?? '';
    const key = `${studyInstanceUid}\u0000${report.seriesInstanceUid}`;
    let index = indexByKey.get(key);
    if (index === undefined) {
      index = groups.length;
      indexByKey.set(key, index);
      groups.push({ studyInstanceUid, seriesInstanceUid: report.seriesInstanceUid, members: [] });
    }
    groups[index]!.members.push(reportIndex);
    return index;
  });

  const series = groups.map(({ studyInstanceUid, seriesInstanceUid, members }): SeriesChanges => {
    // A change is common when every member has it (a member lists a change at most once: each
    // has its own path).
    const counts = new Map<ReportChange, number>();
    for (const member of members) {
      for (const change of reports[member]!.changes) {
        const key = canonical(change);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    const changes = reports[members[0]!]!.changes.map(canonical).filter(
      (change) => counts.get(change) === members.length,
    );
    return { studyInstanceUid, seriesInstanceUid, instances: members.length, changes };
  });
  const common = series.map((entry) => new Set(entry.changes));

  return {
    series,
    instances: reports.map((report, reportIndex) => {
      const index = memberships[reportIndex];
      if (index === undefined) return { report, changes: [...report.changes] };
      const shared = common[index]!;
      return {
        report,
        series: index,
        changes: report.changes.filter((change) => !shared.has(canonical(change))),
      };
    }),
  };
}
