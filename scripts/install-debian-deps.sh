#!/usr/bin/env bash
# Installs the real components the tests use (ARCHITECTURE.md): Orthanc as the PACS with its
# DICOMweb plugin, DCMTK to make test media, dicom3tools to validate, GDCM to compare
# de-identification, pydicom for its test files (and numpy, with which it reads pixel data),
# Chromium for the end-to-end tests.
set -euo pipefail
packages=(chromium orthanc orthanc-dicomweb dcmtk dicom3tools python3-pydicom python3-numpy libgdcm-tools openssl)
sudo=''
if [ "$(id -u)" -ne 0 ]; then sudo='sudo'; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "Installed: ${packages[*]}"
