"""FAA108 (unsafe): Pydantic 1 method names become their Pydantic 2 names, and a plain
`@validator` becomes `@field_validator` + `@classmethod`, where the arguments mean the
same in both versions."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from fastapi_architect.review.finding import Finding
from fastapi_architect.review.fixes._base import Edit, FixContext, Import, Plan, Skip, fixer

# v1 method -> (v2 name, keywords that mean the same in both, positional arguments allowed)
_DUMP_KEYWORDS = frozenset(
    {"include", "exclude", "by_alias", "exclude_unset", "exclude_defaults", "exclude_none"}
)
_RENAMES: dict[str, tuple[str, frozenset[str], range]] = {
    "dict": ("model_dump", _DUMP_KEYWORDS, range(0, 1)),
    "json": ("model_dump_json", _DUMP_KEYWORDS | {"indent"}, range(0, 1)),
    "copy": ("model_copy", frozenset({"update", "deep"}), range(0, 1)),
    "parse_obj": ("model_validate", frozenset(), range(1, 2)),
    "from_orm": ("model_validate", frozenset(), range(1, 2)),
    "validate": ("model_validate", frozenset(), range(1, 2)),
    "parse_raw": ("model_validate_json", frozenset(), range(1, 2)),
    "schema": ("model_json_schema", frozenset({"by_alias", "ref_template"}), range(0, 3)),
    "update_forward_refs": ("model_rebuild", frozenset(), range(0, 1)),
}
# v1 `@validator` keywords a `@field_validator` takes as they are (`allow_reuse` is gone:
# Pydantic 2 never complains about reuse, so it is dropped).
_VALIDATOR_KEYWORDS = frozenset({"pre", "check_fields", "allow_reuse"})
# Parameter names that make Pydantic 1 pass more than the value.
_V1_EXTRA_PARAMETERS = frozenset({"values", "field", "config"})


def _rename_call(finding: Finding, call: cst.Call) -> Plan:
    func = call.func
    if not isinstance(func, cst.Attribute):
        return Skip((finding,), "the call is not a method call")
    old = func.attr.value
    if old not in _RENAMES:
        return Skip((finding,), f"`.{old}()` has no Pydantic 2 method to rename to")
    new, keywords, positional = _RENAMES[old]
    args = call.args
    if any(arg.star for arg in args):
        return Skip((finding,), f"`.{old}()` is called with `*`/`**` arguments")
    given = [arg.keyword.value for arg in args if arg.keyword is not None]
    unknown = sorted(set(given) - keywords)
    if unknown:
        return Skip((finding,), f"`.{old}({unknown[0]}=...)` has no same-meaning `.{new}()`")
    if len([arg for arg in args if arg.keyword is None]) not in positional:
        return Skip((finding,), f"`.{old}()` is called with other arguments than `.{new}()` takes")

    def rename(node: cst.CSTNode) -> cst.CSTNode:
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)):
            return node
        if node.func.attr.value != old:
            return node
        return node.with_changes(func=node.func.with_changes(attr=cst.Name(new)))

    return Edit((finding,)).replace(call, rename)


def _imports_validator_from_pydantic(ctx: FixContext) -> bool:
    for statement in ctx.module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if (
                isinstance(small, cst.ImportFrom)
                and not small.relative
                and small.module is not None
                and ctx.code(small.module) == "pydantic"
                and not isinstance(small.names, cst.ImportStar)
                and any(
                    ctx.code(alias.name) == "validator" and alias.asname is None
                    for alias in small.names
                )
            ):
                return True
    return False


def _validator(finding: Finding, ctx: FixContext, expr: cst.BaseExpression) -> Plan:
    decorator = ctx.parent(expr)
    function = ctx.parent(decorator) if decorator is not None else None
    if not isinstance(decorator, cst.Decorator) or not isinstance(function, cst.FunctionDef):
        return Skip((finding,), "no decorator at the reported place")
    if not isinstance(expr, cst.Call):
        return Skip((finding,), "`@validator` without field names cannot be converted")
    callee = ctx.code(expr.func)
    if callee == "validator" and _imports_validator_from_pydantic(ctx):
        new_callee: cst.BaseExpression = cst.Name("field_validator")
    elif callee == "pydantic.validator":
        new_callee = cst.Attribute(value=cst.Name("pydantic"), attr=cst.Name("field_validator"))
    else:
        if callee.split(".")[-1] == "root_validator":
            return Skip(
                (finding,),
                "`@root_validator` becomes `@model_validator` by hand (its mode and "
                "arguments differ)",
            )
        return Skip((finding,), f"`@{callee}` is not `validator` imported from `pydantic`")
    new_args: list[cst.Arg] = []
    for arg in expr.args:
        if arg.star:
            return Skip((finding,), "`@validator` with `*`/`**` arguments")
        if arg.keyword is None:
            if not isinstance(arg.value, cst.SimpleString):
                return Skip((finding,), "`@validator` with field names that are not literals")
            new_args.append(arg)
            continue
        key = arg.keyword.value
        if key not in _VALIDATOR_KEYWORDS:
            return Skip(
                (finding,), f"`@validator({key}=...)` has no plain `@field_validator` equivalent"
            )
        if key == "allow_reuse":
            continue
        if key == "pre":
            if not isinstance(arg.value, cst.Name) or arg.value.value not in ("True", "False"):
                return Skip((finding,), "`pre=` is not a literal `True` or `False`")
            if arg.value.value == "True":
                new_args.append(
                    arg.with_changes(keyword=cst.Name("mode"), value=cst.SimpleString('"before"'))
                )
            continue
        new_args.append(arg)
    if not any(arg.keyword is None for arg in new_args):
        return Skip((finding,), "`@validator` without field names cannot be converted")
    # Drop the comma a removed last argument left behind.
    last = new_args[-1]
    if not isinstance(expr.args[-1].comma, cst.Comma):
        new_args[-1] = last.with_changes(comma=cst.MaybeSentinel.DEFAULT)
    params = function.params
    plain = (
        len(params.params) == 2
        and not params.posonly_params
        and not params.kwonly_params
        and not isinstance(params.star_arg, cst.Param)
        and params.star_kwarg is None
        and all(p.default is None for p in params.params)
        and params.params[1].name.value not in _V1_EXTRA_PARAMETERS
    )
    if not plain:
        return Skip(
            (finding,),
            "the validator takes more than `(cls, value)` (`values`, `field`, `config`, "
            "defaults): its Pydantic 2 signature differs",
        )
    index = next(i for i, d in enumerate(function.decorators) if d is decorator)
    has_classmethod = any(
        isinstance(d.decorator, cst.Name) and d.decorator.value == "classmethod"
        for d in function.decorators
    )
    new_decorator = expr.with_changes(func=new_callee, args=new_args)

    def convert(node: cst.CSTNode) -> cst.CSTNode:
        if not isinstance(node, cst.FunctionDef) or index >= len(node.decorators):
            return node
        decorators = list(node.decorators)
        decorators[index] = decorators[index].with_changes(decorator=new_decorator)
        if not has_classmethod:
            decorators.insert(index + 1, cst.Decorator(decorator=cst.Name("classmethod")))
        return node.with_changes(decorators=decorators)

    edit = Edit((finding,)).replace(function, convert)
    if isinstance(new_callee, cst.Name):
        edit.imports.append(Import("pydantic", "field_validator"))
        edit.unused_imports.append(Import("pydantic", "validator"))
    return edit


def _by_hand(ctx: FixContext, finding: Finding) -> str:
    """Why a finding of a kind that has no fix (yet) is left as it is."""
    for node in ctx.spanning(finding):
        if isinstance(node, cst.ClassDef):
            return "`class Config` is converted to `model_config = ConfigDict(...)` by hand"
        if isinstance(node, cst.ImportFrom):
            return "`BaseSettings` moved to the `pydantic-settings` package: import it by hand"
        if isinstance(node, (cst.Arg, cst.DictElement, cst.SimpleString)):
            return "`json_encoders` is replaced by `@field_serializer` by hand"
    return "no automatic fix for this Pydantic 1 idiom"


@fixer("FAA108", "Use the Pydantic 2 name")
def pydantic_v2_names(findings: Sequence[Finding], ctx: FixContext) -> list[Plan]:
    plans: list[Plan] = []
    for finding in findings:
        candidates = [n for n in ctx.spanning(finding) if isinstance(n, cst.BaseExpression)]
        decorated = [n for n in candidates if isinstance(ctx.parent(n), cst.Decorator)]
        calls = [n for n in candidates if isinstance(n, cst.Call)]
        if decorated:
            plans.append(_validator(finding, ctx, decorated[0]))
        elif calls:
            plans.append(_rename_call(finding, calls[0]))
        else:
            plans.append(Skip((finding,), _by_hand(ctx, finding)))
    return plans
