"""Generate `docs/rules/` from the rule metadata, so rule docs are never written twice.

Run `python -m fastapi_architect.review.ruledocs docs/rules` (`make docs`); a test fails
when the committed pages differ from what this produces.
"""

from __future__ import annotations

import sys
from itertools import groupby
from pathlib import Path

from fastapi_architect.review.registry import Rule, all_rules


def rule_page(rule: Rule) -> str:
    lines = [
        f"# {rule.code}: {rule.name}",
        "",
        f"{rule.summary}.",
        "",
        "| | |",
        "|---|---|",
        f"| Category | {rule.category} |",
        f"| Severity | {rule.severity} |",
        f"| Default | {'on' if rule.default_enabled else 'off (opt-in: `--select ' + rule.code + '`)'} |",
    ]
    if rule.fix_title:
        lines.append(f"| Fix | {rule.fix_title} |")
    if rule.cwe:
        lines.append(f"| CWE | {', '.join(rule.cwe)} |")
    if rule.owasp:
        lines.append(f"| OWASP | {', '.join(rule.owasp)} |")
    lines += ["", rule.docs.strip()]
    if rule.references and "## References" not in rule.docs:
        lines += ["", "## References", ""]
        lines += [f"- <{ref}>" for ref in rule.references]
    return "\n".join(lines).rstrip() + "\n"


def index_page(rules: list[Rule]) -> str:
    lines = [
        "# Rules",
        "",
        "Generated from the rule metadata (`make docs`). "
        "Enable opt-in rules with `--select CODE`; silence one line with `# noqa: CODE`.",
        "",
    ]
    for category, group in groupby(rules, key=lambda r: r.category):
        lines += [
            f"## {category}",
            "",
            "| Code | Name | Severity | Default | Summary |",
            "|---|---|---|---|---|",
        ]
        for rule in group:
            default = "on" if rule.default_enabled else "opt-in"
            lines.append(
                f"| [{rule.code}]({rule.code}.md) | {rule.name} | {rule.severity} | {default} "
                f"| {rule.summary} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def generate() -> dict[str, str]:
    """File name -> content for every page."""
    rules = all_rules()
    pages = {f"{rule.code}.md": rule_page(rule) for rule in rules}
    pages["index.md"] = index_page(rules)
    return pages


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "docs/rules")
    out.mkdir(parents=True, exist_ok=True)
    pages = generate()
    for stale in out.glob("FAA*.md"):
        if stale.name not in pages:
            stale.unlink()
    for name, content in pages.items():
        (out / name).write_text(content, encoding="utf-8")
    print(f"wrote {len(pages)} pages to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
