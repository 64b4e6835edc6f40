"""For each file given, how pydicom reads it: strictly (valid Part 10), with force, or not at all.

Prints one JSON object: {path: {"strict": bool, "forced": bool, "sopInstanceUid": str}}.
"""
import json
import sys
import warnings

import pydicom

warnings.simplefilter("ignore")
out = {}
for path in sys.argv[1:]:
    entry = {"strict": False, "forced": False, "sopInstanceUid": ""}
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        entry["strict"] = True
    except Exception:
        ds = None
    if ds is None:
        try:
            ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
            entry["forced"] = len(ds) > 0
        except Exception:
            ds = None
    if ds is not None:
        try:
            # A dataset without its own SOP Instance UID is known by the meta's (PS3.10 7.1).
            uid = ds.get("SOPInstanceUID", "")
            if not uid and hasattr(ds, "file_meta"):
                uid = ds.file_meta.get("MediaStorageSOPInstanceUID", "")
            entry["sopInstanceUid"] = str(uid)
        except Exception:
            pass
    out[path] = entry
print(json.dumps(out))
