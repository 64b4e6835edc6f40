#!/usr/bin/env python3
"""Dumps every text value of pydicom's charset test files, as pydicom decodes it.

Prints one JSON document on stdout: {"pydicom": version, "dir": path, "records": [...]}, each
record {file, tag, vr, charsets, rawHex, decoded, warnings}. `charsets` is the raw (0008,0005)
value in effect (a sequence item may carry its own, PS3.5 7.5.3), split on backslash and not
trimmed; `decoded` is pydicom's own decoded value (a list: one string per value, PN as
str(PersonName)). When pydicom cannot be imported it prints {"skip": reason} and exits 0.
Used by test/core/dicom/charset.test.ts.
"""
import json
import os
import sys
import warnings

try:
    import pydicom
    import pydicom.data
    from pydicom.dataelem import RawDataElement
    from pydicom.multival import MultiValue
except Exception as error:  # noqa: BLE001 - any import failure means "no oracle here"
    print(json.dumps({"skip": f"{sys.executable} cannot import pydicom: {error!r}"}))
    sys.exit(0)

TEXT_VRS = {"SH", "LO", "ST", "LT", "UT", "PN", "UC"}
SPECIFIC_CHARACTER_SET = 0x00080005


def charset_dir():
    return os.path.join(os.path.dirname(pydicom.data.__file__), "charset_files")


def raw_charsets(dataset, inherited):
    """The raw (0008,0005) value of `dataset` split on backslash, or the inherited one."""
    element = dataset.get_item(SPECIFIC_CHARACTER_SET)
    if element is None:
        return inherited
    if isinstance(element, RawDataElement):
        raw = element.value or b""
        return raw.decode("latin-1").split("\\") if raw else inherited
    # Already converted by pydicom (not expected for a fresh read): its value, unsplit.
    value = element.value
    if not value:
        return inherited
    return [str(term) for term in value] if isinstance(value, MultiValue) else [str(value)]


def pydicom_values(value):
    """pydicom's decoded value as a list of strings, one per value (PN as str(PersonName))."""
    if value is None:
        return []
    if isinstance(value, MultiValue):
        return [str(v) for v in value]
    return [str(value)]


def walk(dataset, charsets, file_name, path, records):
    charsets = raw_charsets(dataset, charsets)
    for tag in sorted(dataset.keys()):
        raw_element = dataset.get_item(tag)
        raw_bytes = raw_element.value if isinstance(raw_element, RawDataElement) else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            element = dataset[tag]  # pydicom's own conversion, with its own charset inheritance
            if element.VR == "SQ":
                for index, item in enumerate(element.value):
                    walk(item, charsets, file_name, f"{path}{tag:08X}[{index}].", records)
                continue
            if element.VR not in TEXT_VRS or raw_bytes is None:
                continue
            decoded = pydicom_values(element.value)
        records.append(
            {
                "file": file_name,
                "tag": f"{path}{tag:08X}",
                "vr": element.VR,
                "charsets": charsets,
                "rawHex": raw_bytes.hex(),
                "decoded": decoded,
                "warnings": [str(w.message) for w in caught],
            }
        )


def main():
    directory = charset_dir()
    records = []
    for file_name in sorted(os.listdir(directory)):
        if not file_name.endswith(".dcm"):
            continue
        dataset = pydicom.dcmread(os.path.join(directory, file_name), defer_size=None)
        walk(dataset, None, file_name, "", records)
    json.dump({"pydicom": pydicom.__version__, "dir": directory, "records": records}, sys.stdout)


if __name__ == "__main__":
    main()
