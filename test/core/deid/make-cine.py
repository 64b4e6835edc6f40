"""Writes a native multi-frame RGB cine (Explicit VR Little Endian) for mask-cine.test.ts.

Usage: make-cine.py OUT FRAMES ROWS COLUMNS. Synthetic values only (no person). Samples:
R = (column / 8 + frame) % 256, G = (row + frame) % 256, B = 16 * ((row / 16) ^ (column / 16)) % 256
(runs, so RLE compresses it; every frame differs).
"""
import sys

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

out, frames, rows, columns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"  # Ultrasound Multi-frame
meta.MediaStorageSOPInstanceUID = generate_uid()
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = Dataset()
ds.file_meta = meta
ds.SOPClassUID = meta.MediaStorageSOPClassUID
ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
ds.StudyInstanceUID = generate_uid()
ds.SeriesInstanceUID = generate_uid()
ds.PatientName = "Cine^Synthetic"
ds.PatientID = "CINE-1"
ds.Modality = "US"
ds.Manufacturer = "Ferry Test"
ds.BurnedInAnnotation = "YES"
ds.SamplesPerPixel = 3
ds.PhotometricInterpretation = "RGB"
ds.PlanarConfiguration = 0
ds.NumberOfFrames = frames
ds.Rows = rows
ds.Columns = columns
ds.BitsAllocated = 8
ds.BitsStored = 8
ds.HighBit = 7
ds.PixelRepresentation = 0
pixels = bytearray(frames * rows * columns * 3)
red = bytes((c // 8) % 256 for c in range(columns))
blue = [bytes(((16 * ((r // 16) ^ (c // 16))) % 256) for c in range(columns)) for r in range(rows)]
frame_bytes = rows * columns * 3
for f in range(frames):
    shift = bytes((v + f) % 256 for v in range(256))
    red_f = red.translate(shift)
    for r in range(rows):
        start = f * frame_bytes + r * columns * 3
        row = bytearray(columns * 3)
        row[0::3] = red_f
        row[1::3] = bytes([(r + f) % 256]) * columns
        row[2::3] = blue[r]
        pixels[start:start + columns * 3] = row
ds.PixelData = bytes(pixels)
ds.is_little_endian = True
ds.is_implicit_VR = False
ds.save_as(out, write_like_original=False)
