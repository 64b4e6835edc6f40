import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanMedia } from '../../../main/core/media/scan.ts';
import { debianPython, missingPydicom, pydicomDataDir, skipFor } from '../../support/tools.ts';

const skip = skipFor(missingPydicom());

describe.skipIf(skip)("scanning pydicom's charset_files", () => {
  it('decodes every patient name and study description to the Unicode pydicom gives', async () => {
    const root = path.join(pydicomDataDir()!, 'charset_files');
    const expected = JSON.parse(
      execFileSync(
        debianPython,
        [
          '-c',
          [
            'import json, os, sys, warnings, pydicom',
            'warnings.simplefilter("ignore")',
            'out = {}',
            'for name in sorted(os.listdir(sys.argv[1])):',
            '    if not name.endswith(".dcm"): continue',
            '    ds = pydicom.dcmread(os.path.join(sys.argv[1], name))',
            '    out[name] = str(ds.get("PatientName", ""))',
            'print(json.dumps(out))',
          ].join('\n'),
          root,
        ],
        { encoding: 'utf8' },
      ),
    ) as Record<string, string>;
    const result = await scanMedia(root);
    const ours: Record<string, string> = {};
    for (const patient of result.patients) {
      for (const study of patient.studies) {
        for (const series of study.series) {
          for (const instance of series.instances) ours[instance.path] = patient.patientName;
        }
      }
    }
    // pydicom drops empty trailing component groups ("A=B=" is "A=B").
    const normalise = (name: string) => name.replace(/=+$/u, '');
    expect(Object.keys(ours).sort()).toEqual(Object.keys(expected).sort());
    for (const [file, name] of Object.entries(expected)) {
      expect(normalise(ours[file] ?? ''), file).toBe(normalise(name));
    }
    expect(Object.values(ours).some((name) => /[^\x20-\x7e]/u.test(name))).toBe(true);
  });
});
