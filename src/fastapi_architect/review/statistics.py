"""`review --statistics` (counts per rule, like ruff's) and the "fixable with --fix" hints.

Which rules have an automatic fix is read from `review.fix_catalog`, without loading the
fixers.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi_architect.review.finding import Finding
from fastapi_architect.review.fix_catalog import Safety, count_fixable, fixable


@dataclass(frozen=True)
class RuleCount:
    code: str
    name: str
    count: int
    fix: Safety | None


def rule_counts(findings: Iterable[Finding]) -> list[RuleCount]:
    """Findings per rule, most frequent first (then by code)."""
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    for f in findings:
        counts[f.code] += 1
        names.setdefault(f.code, f.name)
    return [
        RuleCount(code, names.get(code, ""), count, fixable(code))
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def render_statistics(findings: list[Finding], *, as_json: bool, unsafe: bool) -> str:
    """ruff's layout: `count<TAB>code<TAB>[*] name`; `[*]` fixable with `--fix`,
    `[-]` fixable only with `--unsafe-fixes`, `[ ]` no automatic fix. JSON: a list."""
    rows = rule_counts(findings)
    if as_json:
        data = [
            {"code": r.code, "name": r.name, "count": r.count, "fixable": r.fix is not None}
            for r in rows
        ]
        return json.dumps(data, indent=2) + "\n"
    if not rows:
        return ""
    count_width = max(len(str(r.count)) for r in rows)
    code_width = max(len(r.code) for r in rows)
    lines = []
    for r in rows:
        if r.fix == "safe" or (r.fix == "unsafe" and unsafe):
            marker = "[*] "
        elif r.fix == "unsafe":
            marker = "[-] "
        else:
            marker = "[ ] "
        lines.append(f"{r.count:>{count_width}}\t{r.code:<{code_width}}\t{marker}{r.name}")
    return "\n".join(lines) + "\n"


def fix_hint(findings: list[Finding], *, unsafe: bool) -> str:
    """ "[*] 3 fixable with `--fix` (1 more with `--unsafe-fixes`)." or "" (nothing fixable)."""
    kinds = count_fixable(findings)
    safe, unsafe_count = kinds["safe"], kinds["unsafe"]
    if unsafe:
        total = safe + unsafe_count
        return f"[*] {total} fixable with `--fix --unsafe-fixes`.\n" if total else ""
    if safe and unsafe_count:
        return (
            f"[*] {safe} fixable with `--fix` ({unsafe_count} more with `--fix --unsafe-fixes`).\n"
        )
    if safe:
        return f"[*] {safe} fixable with `--fix`.\n"
    if unsafe_count:
        return f"{unsafe_count} fixable with `--fix --unsafe-fixes`.\n"
    return ""
