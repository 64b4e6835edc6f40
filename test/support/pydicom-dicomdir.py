"""Independent reading of a DICOMDIR with pydicom, for comparison in tests.

Prints JSON: record counts by Directory Record Type, the referenced file IDs of
leaf records, and the studies/series UIDs the records name.
"""
import collections
import json
import sys
import warnings

import pydicom

warnings.simplefilter("ignore")
ds = pydicom.dcmread(sys.argv[1], force=True)
records = ds.get("DirectoryRecordSequence", [])
counts = collections.Counter(str(r.DirectoryRecordType).strip() for r in records)
files = []
for record in records:
    if "ReferencedFileID" in record and record.DirectoryRecordType not in ("PATIENT", "STUDY", "SERIES"):
        value = record.ReferencedFileID
        parts = [value] if isinstance(value, str) else list(value)
        files.append("/".join(parts))
studies = sorted({r.StudyInstanceUID for r in records if r.DirectoryRecordType == "STUDY"})
series = sorted({r.SeriesInstanceUID for r in records if r.DirectoryRecordType == "SERIES"})
print(json.dumps({"counts": counts, "files": sorted(files), "studies": studies, "series": series}))
