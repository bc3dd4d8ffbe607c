#!/usr/bin/env python3
"""Write (or check) the golden file: texts and the scores the EXPORTED SavedModel gives them.

The serving side loads the same SavedModel (TF Java) and must reproduce every score within the
file's tolerance. Scores come from `tf.saved_model.load(dir).signatures["serving_default"]`, one
text per call; the same texts scored as one batch must agree (the model is batch-invariant).

    training/train.sh --golden                      # regenerate training/golden/imdb-sentiment-1.json
    training/train.sh --golden --check              # verify the committed file against the model
    training/train.sh --golden --model DIR --out F  # any export / any file
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TRAINING_DIR = Path(__file__).resolve().parent
REPO_ROOT = TRAINING_DIR.parent
MODEL_NAME = "imdb-sentiment"
SIGNATURE = "serving_default"
INPUT = "text"
OUTPUT = "output_0"
TOLERANCE = 1e-5
# Batch vs one-at-a-time scores must agree far inside the tolerance the serving side gets.
BATCH_INVARIANCE_LIMIT = 1e-6

_LONG_SENTENCE = (
    "The cinematography is gorgeous and the cast is strong, but the plot drags in the middle "
    "and the ending feels rushed. "
)


def _long_text() -> str:
    text = (_LONG_SENTENCE * (20000 // len(_LONG_SENTENCE) + 1))[:20000]
    return text


CASES: list[tuple[str, str]] = [
    ("positive", "This movie was wonderful. The acting was superb and the story moved me to "
                 "tears. One of the best films I have seen in years."),
    ("positive_short", "great movie"),
    ("positive_review", "A charming, funny and heartfelt film with a brilliant performance by "
                        "the lead. I loved every minute and would happily watch it again."),
    ("negative", "This was a terrible movie. The plot made no sense, the acting was wooden "
                 "and I wanted my two hours back. Avoid it."),
    ("negative_short", "awful film"),
    ("negative_review", "Boring, predictable and badly written. The worst film of the year; "
                        "even the soundtrack was annoying."),
    ("neutral", "The film is 120 minutes long and was released in cinemas on a Friday."),
    ("mixed", "Great actors, terrible script."),
    ("negation", "not good"),
    ("empty", ""),
    ("single_word_positive", "excellent"),
    ("single_word_negative", "worst"),
    ("single_word_neutral", "movie"),
    ("unknown_word", "zxqvbnmlkjh"),
    ("very_long", _long_text()),
    ("accented", "Un film magnifique, très émouvant. ¡Qué película tan buena! Schön und "
                 "großartig."),
    ("cjk", "这部电影非常好看，演员表演精彩。映画はとても面白かった。"),
    ("emoji", "Loved it 😍🍿👍🏽 best movie ever 🎬"),
    ("emoji_only", "😡👎"),
    ("rtl_arabic", "فيلم رائع جدا وأحببت القصة"),
    ("rtl_hebrew", "סרט נהדר, ממליץ בחום"),
    ("html_br", "Great acting.<br /><br />Terrible ending.<br/>Still worth it.<BR>Really."),
    ("html_markup", "<p>This is <b>the best</b> film of the year!</p> <i>Wonderful</i>"),
    ("punctuation_only", "!!! ??? ... ,,, ;;; ---"),
    ("numbers", "10/10 would watch again 100%"),
    ("numbers_only", "1 2 3 4 5 6 7 8 9 0"),
    ("mixed_case", "ThIs MoViE wAs AbSoLuTeLy FaNtAsTiC"),
    ("upper_case", "THIS MOVIE WAS ABSOLUTELY FANTASTIC"),
    ("lower_case", "this movie was absolutely fantastic"),
    ("whitespace_only", "   \t\n  "),
    ("leading_trailing_whitespace", "   a truly dreadful waste of time   "),
    ("newlines_tabs", "great\tacting\nand\r\na wonderful\tscript"),
    ("repeated_word", " ".join(["bad"] * 200)),
    ("quotes_and_apostrophes", "I didn't like it, it wasn't \"good\" at all -- it's a 'mess'."),
]


def _load(model_dir: Path):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(model_dir))
    if SIGNATURE not in loaded.signatures:
        raise SystemExit(f"{model_dir}: no {SIGNATURE} signature "
                         f"(has {sorted(loaded.signatures)})")
    fn = loaded.signatures[SIGNATURE]
    _, kwargs = fn.structured_input_signature
    if INPUT not in kwargs or kwargs[INPUT].dtype != tf.string:
        raise SystemExit(f"{model_dir}: {SIGNATURE} input is {kwargs}, expected {INPUT}: string")
    if OUTPUT not in fn.structured_outputs:
        raise SystemExit(f"{model_dir}: {SIGNATURE} outputs are {fn.structured_outputs}")
    return tf, loaded, fn


def score_cases(model_dir: Path, texts: list[str]) -> list[float]:
    """Scores from the exported artifact, one text per call; checks batch invariance too."""
    tf, _loaded, fn = _load(model_dir)
    single = []
    for text in texts:
        out = fn(**{INPUT: tf.constant([[text]], dtype=tf.string)})[OUTPUT].numpy()
        if out.shape != (1, 1):
            raise SystemExit(f"output shape {out.shape}, expected (1, 1)")
        single.append(float(out[0, 0]))
    batch = fn(**{INPUT: tf.constant([[t] for t in texts], dtype=tf.string)})[OUTPUT].numpy()
    for text, s, b in zip(texts, single, batch[:, 0].tolist()):
        if not (0.0 <= s <= 1.0 and 0.0 <= b <= 1.0):  # also false for NaN
            raise SystemExit(f"score {s} (alone) / {b} (in a batch) for {text[:40]!r} "
                             "is not a probability")
        if not abs(s - b) <= BATCH_INVARIANCE_LIMIT:
            raise SystemExit(f"score for {text[:40]!r} depends on the batch: alone {s}, "
                             f"in a batch {b}")
    return single


def golden_document(model_dir: Path, version: int | None = None) -> dict:
    if version is None:
        name = Path(model_dir).resolve().name
        version = int(name) if name.isdigit() else 1
    texts = [text for _, text in CASES]
    scores = score_cases(model_dir, texts)
    return {
        "model": MODEL_NAME,
        "version": version,
        "signature": SIGNATURE,
        "input": INPUT,
        "output": OUTPUT,
        "tolerance": TOLERANCE,
        # float(np.float32) is exact in a double; repr keeps every digit of it.
        "cases": [{"name": n, "text": t, "score": s} for (n, t), s in zip(CASES, scores)],
    }


def write_golden(model_dir: Path, out: Path, version: int | None = None) -> dict:
    doc = golden_document(model_dir, version)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".part")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out)
    return doc


def check_golden(model_dir: Path, golden: Path) -> int:
    doc = json.loads(Path(golden).read_text(encoding="utf-8"))
    texts = [c["text"] for c in doc["cases"]]
    scores = score_cases(model_dir, texts)
    tol = float(doc["tolerance"])
    bad = 0
    worst = 0.0
    for case, s in zip(doc["cases"], scores):
        diff = abs(s - case["score"])
        worst = max(worst, diff)
        if diff > tol:
            bad += 1
            print(f"MISMATCH {case['name']}: golden {case['score']}, model {s}", file=sys.stderr)
    print(f"golden: {len(texts) - bad}/{len(texts)} cases within {tol} "
          f"(max abs diff {worst:.3g}) for {model_dir}")
    return 1 if bad else 0


def main(argv=None) -> int:
    default_model = REPO_ROOT / "models" / MODEL_NAME / "1"
    ap = argparse.ArgumentParser(
        description="Write or check the golden file of the exported model.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--model", type=Path, default=default_model,
                    help="SavedModel version folder")
    ap.add_argument("--out", type=Path, default=None,
                    help=f"golden file (default training/golden/{MODEL_NAME}-<version>.json)")
    ap.add_argument("--check", action="store_true",
                    help="compare the existing golden file with the model instead of writing")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    name = args.model.resolve().name
    version = int(name) if name.isdigit() else 1
    out = args.out or TRAINING_DIR / "golden" / f"{MODEL_NAME}-{version}.json"
    if args.check:
        return check_golden(args.model, out)
    doc = write_golden(args.model, out, version)
    print(f"golden: wrote {len(doc['cases'])} cases to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
