"""Which rules run, with ruff's semantics over code prefixes: `select` replaces the
default set, `extend-select` adds to it, `ignore` removes from it, and when selectors
disagree about a rule the most specific one wins (`select = ["FAA201"]` with
`ignore = ["FAA2"]` keeps FAA201; at equal length, `ignore` wins)."""

from __future__ import annotations

from fastapi_architect.config import Config, ConfigError
from fastapi_architect.review.registry import Rule, all_rules


def _specificity(code: str, selectors: tuple[str, ...]) -> int:
    """Length of the longest selector matching `code` (`ALL` counts as 0), or -1."""
    best = -1
    for selector in selectors:
        if selector == "ALL":
            best = max(best, 0)
        elif code.startswith(selector):
            best = max(best, len(selector))
    return best


def validate_selectors(selectors: tuple[str, ...], rules: list[Rule], what: str) -> None:
    codes = [r.code for r in rules]
    for sel in selectors:
        if sel != "ALL" and not any(c.startswith(sel) for c in codes):
            raise ConfigError(f"unknown rule selector {sel!r} in {what}")


def enabled_rules(config: Config) -> list[Rule]:
    rules = all_rules()
    validate_selectors(config.select or (), rules, "select")
    validate_selectors(config.extend_select, rules, "extend-select")
    validate_selectors(config.ignore, rules, "ignore")
    for codes in config.per_file_ignores.values():
        validate_selectors(codes, rules, "per-file-ignores")
    chosen: list[Rule] = []
    for rule in rules:
        if config.select is None:
            enabled = 0 if rule.default_enabled else -1
        else:
            enabled = _specificity(rule.code, config.select)
        enabled = max(enabled, _specificity(rule.code, config.extend_select))
        disabled = _specificity(rule.code, config.ignore)
        if enabled >= 0 and enabled > disabled:
            chosen.append(rule)
    return chosen
