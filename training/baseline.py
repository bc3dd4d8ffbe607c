"""The training baseline a drift report compares served traffic with.

Written by train.py next to the exported model as assets.extra/baseline.json: what the model's
inputs and scores looked like on held-out data (the test split), in the shapes the drift job
(app/.../drift) needs to compare captured predictions against:

- score: the fixed ten-bin histogram (the same bins as the service's mlserve_prediction_score
  metric), 101 percentiles (KS distance) and deciles, positive rate, low-confidence share;
- text length in characters (Unicode code points): fixed bins, p50/p95 and percentiles;
- the model's vocabulary (unigrams of its TextVectorization layer) and the out-of-vocabulary
  rate of the held-out texts, tokenised the way the model's graph does it;
- the share of empty or letterless texts.

Labels are not part of it: the drift report claims no accuracy.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

FORMAT = 1
SCORE_BINS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]  # upper bounds, as the metric
LENGTH_EDGES = [0, 25, 50, 100, 200, 400, 800, 1600, 3200]  # lower bounds; the last bin is open
PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
LETTER = re.compile(r"[^\W\d_]")


def tokens(text: str) -> list[str]:
    """The model's standardisation (lower, <br /> -> space, strip punctuation), then whitespace."""
    return PUNCTUATION.sub("", BR.sub(" ", text.lower())).split()


def score_histogram(scores: np.ndarray) -> list[float]:
    """Share of scores per bin; bin i holds (upper[i-1], upper[i]], the first one [0, 0.1]."""
    idx = np.searchsorted(np.asarray(SCORE_BINS), scores, side="left")
    counts = np.bincount(np.clip(idx, 0, len(SCORE_BINS) - 1), minlength=len(SCORE_BINS))
    return (counts / max(len(scores), 1)).tolist()


def length_histogram(lengths: np.ndarray) -> list[float]:
    """Share of texts per length bin: [edge[i], edge[i+1]), the last one open."""
    idx = np.searchsorted(np.asarray(LENGTH_EDGES), lengths, side="right") - 1
    counts = np.bincount(idx, minlength=len(LENGTH_EDGES))
    return (counts / max(len(lengths), 1)).tolist()


def percentiles(values: np.ndarray) -> list[float]:
    return [float(v) for v in np.percentile(values, np.arange(101), method="linear")]


def build(texts: list[str], scores: np.ndarray, vocabulary: list[str],
          low_confidence_band: tuple[float, float], threshold: float) -> dict:
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(texts) != len(scores) or not len(texts):
        raise ValueError(f"need one score per text, got {len(texts)} texts, {len(scores)} scores")
    vocab = sorted({t for t in vocabulary if t and t != "[UNK]" and " " not in t})
    known = set(vocab)
    lengths = np.asarray([len(t) for t in texts], dtype=np.float64)
    all_tokens = [tok for t in texts for tok in tokens(t)]
    oov = sum(1 for tok in all_tokens if tok not in known) / max(len(all_tokens), 1)
    lo, hi = low_confidence_band
    score_pct = percentiles(scores)
    length_pct = percentiles(lengths)
    return {
        "format": FORMAT,
        "source": f"held-out test split, {len(texts)} texts",
        "n": len(texts),
        "threshold": threshold,
        "low_confidence_band": [lo, hi],
        "score": {
            "bins": SCORE_BINS,
            "histogram": score_histogram(scores),
            "percentiles": score_pct,
            "deciles": score_pct[::10],
            "positive_rate": float(np.mean(scores > threshold)),
            "low_confidence_share": float(np.mean((scores >= lo) & (scores <= hi))),
        },
        "text_length": {
            "unit": "characters",
            "edges": LENGTH_EDGES,
            "histogram": length_histogram(lengths),
            "p50": length_pct[50],
            "p95": length_pct[95],
            "percentiles": length_pct,
        },
        "tokens": {
            "standardize": "lower-case, <br /> variants -> space, strip ASCII punctuation, "
                           "split on whitespace",
            "oov_rate": oov,
            "vocabulary": vocab,
        },
        "empty_or_non_letter_rate": float(np.mean([not LETTER.search(t) for t in texts])),
    }


def write_baseline(extra_dir: Path, texts: list[str], scores, vocabulary: list[str],
                   low_confidence_band=(0.4, 0.6), threshold=0.5) -> Path:
    """Writes extra_dir/baseline.json (sorted keys, so the same run gives the same bytes)."""
    out = Path(extra_dir) / "baseline.json"
    doc = build(list(texts), scores, list(vocabulary), low_confidence_band, threshold)
    out.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    return out
