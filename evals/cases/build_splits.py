"""Build the train/dev/test ticket files from raw labelled files: ids, near-duplicate removal, and a
split stratified by intent. Run once when tickets are added:
`python -m evals.cases.build_splits RAW... --out evals/datasets/tickets --train-out training/tickets.jsonl`.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

from evals.cases.similarity import near_duplicate_pairs

SPLITS = {"test": 0.25, "dev": 0.15}  # the rest is train
SEED = 20261122


def build(raw_files: list[Path], out_dir: Path, train_file: Path) -> dict[str, int]:
    """Write dev.jsonl and test.jsonl into `out_dir` (eval data) and the train split to `train_file`."""
    rows = [
        json.loads(line) for path in raw_files for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    dropped = {j for _, j, _ in near_duplicate_pairs([r["text"] for r in rows])}
    rows = [r for i, r in enumerate(rows) if i not in dropped]
    by_intent: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        by_intent[str(row["intent"])].append(row)
    rng = random.Random(SEED)
    out: dict[str, list[dict[str, object]]] = {"train": [], "dev": [], "test": []}
    for intent in sorted(by_intent):
        group = by_intent[intent]
        rng.shuffle(group)
        n_test = max(8, round(len(group) * SPLITS["test"]))
        n_dev = max(1, round(len(group) * SPLITS["dev"]))
        out["test"] += group[:n_test]
        out["dev"] += group[n_test : n_test + n_dev]
        out["train"] += group[n_test + n_dev :]
    out_dir.mkdir(parents=True, exist_ok=True)
    train_file.parent.mkdir(parents=True, exist_ok=True)
    counter = 0
    for split, items in out.items():
        rng.shuffle(items)
        path = train_file if split == "train" else out_dir / f"{split}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for item in items:
                counter += 1
                handle.write(json.dumps({"id": f"T-{counter:05d}", **item}, ensure_ascii=False) + "\n")
    return {"dropped_near_duplicates": len(dropped), **{k: len(v) for k, v in out.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("raw", nargs="+", type=Path, help="Raw JSONL files of labelled tickets.")
    parser.add_argument("--out", type=Path, required=True, help="Folder for dev.jsonl and test.jsonl.")
    parser.add_argument("--train-out", type=Path, required=True, help="File for the train split.")
    args = parser.parse_args()
    print(json.dumps(build(args.raw, args.out, args.train_out)))


if __name__ == "__main__":
    main()
