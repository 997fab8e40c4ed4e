"""Which rules run: ruff's `select`/`extend-select`/`ignore` semantics over code prefixes."""

from __future__ import annotations

from fastapi_architect.config import Config, ConfigError
from fastapi_architect.review.registry import Rule, all_rules


def _matches(code: str, selector: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


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
    chosen: list[Rule] = []
    for rule in rules:
        if config.select is not None:
            # An explicit selector enables opt-in rules; "ALL" keeps them off unless named.
            on = any(
                _matches(rule.code, s) and (rule.default_enabled or s != "ALL")
                for s in config.select
            )
        else:
            on = rule.default_enabled
        if any(_matches(rule.code, s) for s in config.extend_select):
            on = True
        if any(_matches(rule.code, s) for s in config.ignore):
            on = False
        if on:
            chosen.append(rule)
    return chosen
