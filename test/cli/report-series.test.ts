/**
 * The de-identification report lists a series' common changes once (report-series.ts): for
 * every instance, its series' changes and its own must be exactly its changes, by value.
 */
import { describe, expect, it } from 'vitest';

import {
  groupBySeries,
  type GroupableReport,
  type ReportChange,
} from '../../main/commands/report-series.ts';

const change = (path: string, after?: string): ReportChange => ({
  path,
  tag: path,
  name: `attribute ${path}`,
  action: after === undefined ? 'removed' : 'replaced',
  rule: 'X',
  ...(after !== undefined ? { after } : {}),
});

/** Every instance's changes, from the grouped form, as sorted JSON texts. */
function rebuilt(grouped: ReturnType<typeof groupBySeries>): string[][] {
  return grouped.instances.map((entry) =>
    [...(entry.series !== undefined ? grouped.series[entry.series]!.changes : []), ...entry.changes]
      .map((item) => JSON.stringify(item))
      .sort(),
  );
}

describe('groupBySeries', () => {
  it('lists what every instance of a series has once, and the rest under each instance', () => {
    const shared = change('(0010,0010)', '');
    const reports: GroupableReport[] = [
      // Series A: a shared object, an equal value in a new object, and per-instance UIDs.
      {
        studyInstanceUid: '1',
        seriesInstanceUid: 'A',
        changes: [change('(0002,0012)', 'x'), shared, change('(0008,0018)', 'a1')],
      },
      {
        studyInstanceUid: '1',
        seriesInstanceUid: 'A',
        changes: [shared, change('(0008,0018)', 'a2'), change('(0002,0012)', 'x')],
      },
      // Series A again, without one of the common changes: that one is no longer common.
      {
        studyInstanceUid: '1',
        seriesInstanceUid: 'A',
        changes: [change('(0002,0012)', 'x'), change('(0008,0018)', 'a3')],
      },
      // The same series UID in another study is another series; one instance alone.
      { studyInstanceUid: '2', seriesInstanceUid: 'A', changes: [shared, change('(0008,1030)')] },
      // No series (the instance failed before its UIDs were known).
      { changes: [] },
      { changes: [change('(0008,0080)')] },
    ];
    const grouped = groupBySeries(reports);
    expect(grouped.series).toEqual([
      {
        studyInstanceUid: '1',
        seriesInstanceUid: 'A',
        instances: 3,
        changes: [change('(0002,0012)', 'x')],
      },
      {
        studyInstanceUid: '2',
        seriesInstanceUid: 'A',
        instances: 1,
        changes: [shared, change('(0008,1030)')],
      },
    ]);
    expect(grouped.instances.map((entry) => entry.series)).toEqual([
      0,
      0,
      0,
      1,
      undefined,
      undefined,
    ]);
    expect(grouped.instances[0]!.changes).toEqual([shared, change('(0008,0018)', 'a1')]);
    expect(grouped.instances[2]!.changes).toEqual([change('(0008,0018)', 'a3')]);
    expect(grouped.instances[3]!.changes).toEqual([]);
    expect(grouped.instances[5]!.changes).toEqual([change('(0008,0080)')]);
    expect(rebuilt(grouped)).toEqual(
      reports.map((report) => report.changes.map((item) => JSON.stringify(item)).sort()),
    );
  });
});
