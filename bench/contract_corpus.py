"""Score the contract differ against oasdiff's own test expectations.

The corpus (`../shared/contract-corpus/` by default, or `--corpus DIR`) holds
pairs of OpenAPI documents with the change ids oasdiff's tests expect. Prints:
breaking recall (pairs that must be called breaking), clean pairs kept clean,
change-id recall, level agreement on found ids, and any crash.

    python bench/contract_corpus.py [--corpus DIR] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

from fastapi_architect.contract import diff_documents, load_document

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "contract-corpus"
LEVELS = {"ERR": "error", "WARN": "warning", "INFO": "info"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    pairs_file = args.corpus / "pairs.json"
    if not pairs_file.is_file():
        print(f"no corpus at {args.corpus} (pairs.json missing)", file=sys.stderr)
        return 2
    pairs = json.loads(pairs_file.read_text())

    must_break = found_break = clean_total = clean_kept = 0
    ids_expected = ids_found = levels_same = crashes = 0
    misses: list[str] = []
    started = time.perf_counter()
    for pair in pairs:
        try:
            base = load_document(pair["base"], cwd=args.corpus)
            revision = load_document(pair["revision"], cwd=args.corpus)
            changes = diff_documents(base, revision)
        except Exception:
            crashes += 1
            misses.append(f"CRASH {pair['id']} {pair['base']}\n{traceback.format_exc()}")
            continue
        breaking = any(c.breaking for c in changes)
        if pair["breaking"]:
            must_break += 1
            found_break += breaking
            if not breaking:
                misses.append(f"not breaking: {pair['id']} {pair['base']} -> {pair['revision']}")
        if pair["clean"]:
            clean_total += 1
            clean_kept += not breaking
            if breaking:
                got = sorted({c.id for c in changes if c.breaking})
                misses.append(f"clean pair called breaking: {pair['base']} {got}")
        by_id = {}
        for change in changes:
            by_id.setdefault(change.id, set()).add(change.level.label)
        for expected in pair["expect"]:
            ids_expected += 1
            if expected["id"] in by_id:
                ids_found += 1
                levels_same += LEVELS[expected["level"]] in by_id[expected["id"]]
            else:
                got = sorted(by_id)
                misses.append(
                    f"missing {expected['id']} ({expected['level']}) in "
                    f"{pair['base']} -> {pair['revision']}; got {got}"
                )
    elapsed = time.perf_counter() - started

    def pct(a: int, b: int) -> str:
        return f"{a}/{b} ({100 * a / b:.1f}%)" if b else "n/a"

    if args.verbose:
        for miss in misses:
            print(miss)
        print()
    print(f"pairs:               {len(pairs)} in {elapsed:.2f} s")
    print(f"breaking recall:     {pct(found_break, must_break)}   goal >= 95%")
    print(f"clean pairs clean:   {pct(clean_kept, clean_total)}   goal 100%")
    print(f"change-id recall:    {pct(ids_found, ids_expected)}   goal >= 90%")
    print(f"same level as peer:  {pct(levels_same, ids_found)}   (of the ids found)")
    print(f"crashes:             {crashes}   goal 0")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
