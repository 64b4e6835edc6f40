"""Writes a Comprehensive SR that follows PS3.3 C.17 (valid.dcm) and variants with one fault
each, for test/core/validate/sr-content.test.ts. Run with Debian's pydicom: make-sr.py OUT_DIR."""
import copy
import os
import sys

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
ROOT = "1.2.826.0.1.3680043.10.1078."  # test UIDs only


def code(value, scheme, meaning):
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def reference(class_uid, instance_uid):
    item = Dataset()
    item.ReferencedSOPClassUID = class_uid
    item.ReferencedSOPInstanceUID = instance_uid
    return item


def content_item(relationship, value_type, concept=None):
    item = Dataset()
    item.RelationshipType = relationship
    item.ValueType = value_type
    if concept is not None:
        item.ConceptNameCodeSequence = Sequence([concept])
    return item


def report():
    study = generate_uid(ROOT)
    image_series = generate_uid(ROOT)
    image = generate_uid(ROOT)
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = COMPREHENSIVE_SR
    ds.SOPInstanceUID = generate_uid(ROOT)
    ds.StudyDate = "20240105"
    ds.StudyTime = "101500"
    ds.ContentDate = "20240105"
    ds.ContentTime = "103000"
    ds.AccessionNumber = ""
    ds.Modality = "SR"
    ds.Manufacturer = "Ferry tests"
    ds.ReferringPhysicianName = ""
    ds.ReferencedPerformedProcedureStepSequence = Sequence([])
    ds.PatientName = "Test^Report"
    ds.PatientID = "SR-TEST"
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = generate_uid(ROOT)
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([code("126000", "DCM", "Imaging Measurement Report")])
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"
    ds.PerformedProcedureCodeSequence = Sequence([])

    language = content_item("HAS CONCEPT MOD", "CODE", code("121049", "DCM", "Language of Content Item and Descendants"))
    language.ConceptCodeSequence = Sequence([code("en", "RFC5646", "English")])
    finding = content_item("CONTAINS", "TEXT", code("121071", "DCM", "Finding"))
    finding.TextValue = "No acute findings"
    length = content_item("CONTAINS", "NUM", code("410668003", "SCT", "Length"))
    measured = Dataset()
    measured.NumericValue = "12.5"
    measured.MeasurementUnitsCodeSequence = Sequence([code("mm", "UCUM", "millimeter")])
    length.MeasuredValueSequence = Sequence([measured])
    source = content_item("CONTAINS", "IMAGE")
    source.ReferencedSOPSequence = Sequence([reference(CT_IMAGE, image)])
    point = content_item("CONTAINS", "SCOORD", code("111030", "DCM", "Image Region"))
    point.GraphicType = "POINT"
    point.GraphicData = [10.0, 12.0]
    selected = content_item("SELECTED FROM", "IMAGE")
    selected.ReferencedSOPSequence = Sequence([reference(CT_IMAGE, image)])
    point.ContentSequence = Sequence([selected])
    ds.ContentSequence = Sequence([language, finding, length, source, point])

    series = Dataset()
    series.SeriesInstanceUID = image_series
    series.ReferencedSOPSequence = Sequence([reference(CT_IMAGE, image)])
    evidence = Dataset()
    evidence.StudyInstanceUID = study
    evidence.ReferencedSeriesSequence = Sequence([series])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([evidence])
    return ds


def save(ds, path):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = ROOT + "1"
    ds.file_meta = meta
    ds.preamble = b"\0" * 128
    try:
        ds.save_as(path, enforce_file_format=True)
    except TypeError:  # pydicom 2 (Debian 12)
        ds.is_little_endian = True
        ds.is_implicit_VR = False
        ds.save_as(path, write_like_original=False)


def variants(base):
    """name -> the report with one fault (PS3.3 C.17.2.3, C.17.3.3, C.18)."""
    out = {}
    ds = copy.deepcopy(base)
    del ds.ContentSequence[1].RelationshipType
    out["no-relationship"] = ds
    ds = copy.deepcopy(base)
    del ds.ContentSequence[1].TextValue
    out["no-text-value"] = ds
    ds = copy.deepcopy(base)
    del ds.ContentSequence[2].ConceptNameCodeSequence
    out["num-unnamed"] = ds
    ds = copy.deepcopy(base)
    del ds.ContentSequence[4].ContentSequence
    out["scoord-alone"] = ds
    ds = copy.deepcopy(base)
    del ds.CurrentRequestedProcedureEvidenceSequence
    out["no-evidence"] = ds
    ds = copy.deepcopy(base)
    ds.ContentSequence[1].ValueType = "PARAGRAPH"
    out["bad-value-type"] = ds
    ds = copy.deepcopy(base)
    ds.ValueType = "TEXT"
    ds.TextValue = "not a container"
    out["root-not-container"] = ds
    ds = copy.deepcopy(base)
    del ds.ContentSequence[0].ConceptCodeSequence[0].CodeMeaning
    out["code-unexplained"] = ds
    ds = copy.deepcopy(base)
    parent = ds
    for _ in range(31):  # deeper than the walk goes (sr-rules.ts maxContentDepth), within the parser's bound
        child = content_item("CONTAINS", "CONTAINER")
        child.ContinuityOfContent = "SEPARATE"
        parent.ContentSequence = Sequence([child])
        parent = child
    out["deep"] = ds
    return out


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    base = report()
    save(copy.deepcopy(base), os.path.join(out_dir, "valid.dcm"))
    for name, ds in variants(base).items():
        save(ds, os.path.join(out_dir, name + ".dcm"))


main()
