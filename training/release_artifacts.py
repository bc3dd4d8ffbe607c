#!/usr/bin/env python3
"""What the release controller needs to judge a version, written next to it.

`<version>/assets.extra/eval.jsonl.gz` holds the held-out labelled test split, one JSON object per
line: `{"text": "...", "label": 0|1}`. The release controller (`release evaluate|start`) scores it
with the candidate AND the stable version through the service's own TensorFlow Java code and
compares them; the card's metrics (`assets.extra/model-card.json`) are what training claimed.

train.py calls write_eval_set() while the export is still in its staging folder, so a version
never appears without its evaluation data. For a version exported before this file existed:

    training/.venv/bin/python training/release_artifacts.py models/imdb-sentiment/1

recomputes the same split (same data, same seed) and writes the file into that folder.
The gzip stream carries no name or timestamp: the same split gives the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from pathlib import Path

EVAL_FILE = "eval.jsonl.gz"


def write_eval_set(extra_dir: Path, texts, labels) -> Path:
    """Write texts/labels as assets.extra/eval.jsonl.gz (temp file, then rename)."""
    extra_dir = Path(extra_dir)
    extra_dir.mkdir(parents=True, exist_ok=True)
    if len(texts) != len(labels) or not len(texts):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    target = extra_dir / EVAL_FILE
    tmp = extra_dir / (EVAL_FILE + ".part")
    with tmp.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                              compresslevel=9, mtime=0) as gz:
        for text, label in zip(texts, labels):
            label = int(label)
            if label not in (0, 1):
                raise ValueError(f"label must be 0 or 1, got {label!r}")
            line = json.dumps({"text": text, "label": label}, ensure_ascii=False)
            gz.write(line.encode("utf-8") + b"\n")
    os.replace(tmp, target)
    return target


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Write assets.extra/eval.jsonl.gz (the held-out test "
                                             "split) into an exported version folder.")
    ap.add_argument("version_dir", type=Path, help="e.g. models/imdb-sentiment/1")
    ap.add_argument("--seed", type=int, default=42, help="the seed the version was trained with")
    ap.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parent / ".data")
    args = ap.parse_args(argv)
    if not (args.version_dir / "saved_model.pb").is_file():
        ap.error(f"{args.version_dir} has no saved_model.pb")
    import train  # the same loading, cleaning and split as training itself

    texts, y, _ = train.load_dataset(train.fetch_reviews(args.data_dir))
    _, _, test_idx = train.stratified_split(y, args.seed)
    out = write_eval_set(args.version_dir / "assets.extra", [texts[i] for i in test_idx],
                         y[test_idx])
    print(f"release_artifacts: wrote {out} ({len(test_idx)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
