"""NFIQ 2 scores (0-100) of 500 ppi finger images: one path per line on stdin, one
"path score" line out (score -1 when NFIQ 2 cannot score the image)."""

import sys

import nbis

settings = nbis.NbisExtractorSettings(
    min_quality=0.0, get_center=False, check_fingerprint=False, compute_nfiq2=True, ppi=500.0
)
extractor = nbis.new_nbis_extractor(settings)
for line in sys.stdin:
    path = line.strip()
    if not path:
        continue
    try:
        quality = extractor.extract_minutiae_from_image_file(path).quality()
        score = quality.score if quality is not None else -1
    except nbis.NbisError:
        score = -1
    print(path, score, flush=True)
