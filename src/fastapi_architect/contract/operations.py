"""The document level: paths, operations, parameters, bodies, responses, security.

Paths are matched by their template with parameter names erased
(`/a/{id}` and `/a/{item_id}` are the same path); parameters by location and
name, after merging path-level and operation-level ones (path parameters by
position); media types and status codes by their keys.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from typing import Any

from fastapi_architect.contract.changes import Change, Level, join_pointer
from fastapi_architect.contract.document import HTTP_METHODS, Document
from fastapi_architect.contract.naming import Where, change_for
from fastapi_architect.contract.refs import Resolver, unchanged_schemas
from fastapi_architect.contract.schema_diff import REQUEST, RESPONSE, SchemaComparer
from fastapi_architect.contract.security import SchemeIds, diff_requirements, diff_schemes

E, W, I = Level.ERROR, Level.WARNING, Level.INFO  # noqa: E741 - a level table reads best short
_NULLABILITY = frozenset({"became-nullable", "became-not-nullable"})
_PARAM = re.compile(r"\{[^}/]*\}")


class OperationDiffer:
    """Diffs two documents; holds the resolvers and one schema comparer per direction."""

    def __init__(self, base: Document, revision: Document, today: dt.date | None = None) -> None:
        self.base = base
        self.revision = revision
        self.today = today or dt.date.today()
        self.rb = Resolver(base.data)
        self.rr = Resolver(revision.data)
        self.base_schemes = SchemeIds(base.data, self.rb)
        self.revision_schemes = SchemeIds(revision.data, self.rr)
        unchanged = unchanged_schemas(base.data, revision.data)
        self.requests = SchemaComparer(self.rb, self.rr, REQUEST, unchanged=unchanged)
        self.responses = SchemaComparer(self.rb, self.rr, RESPONSE, unchanged=unchanged)
        self.parameters = SchemaComparer(
            self.rb, self.rr, REQUEST, parameters=True, unchanged=unchanged
        )
        self.out: list[Change] = []

    # -- helpers -------------------------------------------------------------

    def add(
        self,
        ident: str,
        level: Level,
        message: str,
        *,
        operation: str = "",
        path: str = "",
        pointer: str = "",
        location: str = "",
        in_base: bool = False,
    ) -> None:
        self.out.append(
            Change(
                id=ident,
                level=level,
                message=message,
                operation=operation,
                path=path,
                pointer=pointer,
                location=location or pointer,
                in_base=in_base,
            )
        )

    def _sunset(self, node: Mapping[str, Any]) -> dt.date | None:
        raw = node.get("x-sunset")
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw[:10])
            except ValueError:
                return None
        return None

    def _removal(self, node: Mapping[str, Any], stem: str) -> tuple[str, Level, str]:
        """The id suffix and level for removing something, by its prior deprecation."""
        if not node.get("deprecated"):
            return f"{stem}-without-deprecation", E, "without prior deprecation"
        sunset = self._sunset(node)
        if sunset is not None and sunset > self.today:
            return f"{stem}-before-sunset", E, f"before its sunset date {sunset.isoformat()}"
        return f"{stem}-with-deprecation", I, "after deprecation"

    # -- paths and operations ------------------------------------------------

    def run(self) -> list[Change]:
        for section in ("paths", "webhooks"):
            self._section(section)
        diff_schemes(self.add, self.base_schemes, self.revision_schemes)
        return self.out

    def _section(self, section: str) -> None:
        bpaths = _paths(self.base.data, section)
        rpaths = _paths(self.revision.data, section)
        for key, (btemplate, bitem) in bpaths.items():
            if key not in rpaths:
                for method, op in _operations(self.rb, bitem):
                    stem, level, how = self._removal(op, "api-path-removed")
                    if section == "webhooks":
                        stem = "webhook-removed"
                    self.add(
                        stem,
                        level,
                        f"removed the path {btemplate} ({method.upper()}) {how}",
                        operation=method.upper(),
                        path=btemplate,
                        pointer=f"/{section}",
                        location=join_pointer(f"/{section}", btemplate, method),
                    )
                continue
            rtemplate, ritem = rpaths[key]
            self._path(section, btemplate, bitem, rtemplate, ritem)
        for key, (rtemplate, ritem) in rpaths.items():
            if key in bpaths:
                continue
            for method, _op in _operations(self.rr, ritem):
                self.add(
                    "webhook-added" if section == "webhooks" else "endpoint-added",
                    I,
                    f"added the endpoint {method.upper()} {rtemplate}",
                    operation=method.upper(),
                    path=rtemplate,
                    pointer=join_pointer(f"/{section}", rtemplate, method),
                )

    def _path(self, section: str, btemplate: str, bitem: Any, rtemplate: str, ritem: Any) -> None:
        bitem = self.rb.node(bitem)
        ritem = self.rr.node(ritem)
        bops = dict(_operations(self.rb, bitem))
        rops = dict(_operations(self.rr, ritem))
        for method, bop in bops.items():
            if method not in rops:
                stem, level, how = self._removal(bop, "api-removed")
                self.add(
                    stem,
                    level,
                    f"removed the operation {method.upper()} {btemplate} {how}",
                    operation=method.upper(),
                    path=btemplate,
                    pointer=join_pointer(f"/{section}", rtemplate),
                    location=join_pointer(f"/{section}", btemplate, method),
                )
                continue
            self._operation(section, method, btemplate, bitem, bop, rtemplate, ritem, rops[method])
        for method in rops:
            if method not in bops:
                self.add(
                    "endpoint-added",
                    I,
                    f"added the endpoint {method.upper()} {rtemplate}",
                    operation=method.upper(),
                    path=rtemplate,
                    pointer=join_pointer(f"/{section}", rtemplate, method),
                )

    def _operation(
        self,
        section: str,
        method: str,
        btemplate: str,
        bitem: Mapping[str, Any],
        bop: Mapping[str, Any],
        rtemplate: str,
        ritem: Mapping[str, Any],
        rop: Mapping[str, Any],
    ) -> None:
        op = method.upper()
        optr = join_pointer(f"/{section}", rtemplate, method)
        boptr = join_pointer(f"/{section}", btemplate, method)
        ctx: dict[str, Any] = {"operation": op, "path": rtemplate}
        if bool(bop.get("deprecated")) != bool(rop.get("deprecated")):
            if rop.get("deprecated"):
                self.add(
                    "endpoint-deprecated", I, f"deprecated {op} {rtemplate}", pointer=optr, **ctx
                )
            else:
                self.add(
                    "endpoint-reactivated",
                    I,
                    f"{op} {rtemplate} is no longer deprecated",
                    pointer=optr,
                    **ctx,
                )
        bid, rid = bop.get("operationId"), rop.get("operationId")
        if bid != rid:
            if bid is not None and rid is not None:
                self.add(
                    "api-operation-id-removed",
                    W,
                    f"operationId {bid!r} replaced with {rid!r} (generated clients rename the method)",
                    pointer=join_pointer(optr, "operationId"),
                    **ctx,
                )
            elif bid is None:
                self.add(
                    "api-operation-id-added",
                    I,
                    f"operationId {rid!r} added",
                    pointer=join_pointer(optr, "operationId"),
                    **ctx,
                )
            else:
                self.add(
                    "api-operation-id-removed",
                    W,
                    f"operationId {bid!r} removed",
                    pointer=optr,
                    **ctx,
                )
        btags = [t for t in bop.get("tags") or [] if isinstance(t, str)]
        rtags = [t for t in rop.get("tags") or [] if isinstance(t, str)]
        for tag in btags:
            if tag not in rtags:
                self.add(
                    "api-tag-removed",
                    I,
                    f"tag {tag!r} removed",
                    pointer=optr,
                    location=f"{optr}/tags#{tag}",
                    **ctx,
                )
        for tag in rtags:
            if tag not in btags:
                self.add(
                    "api-tag-added",
                    I,
                    f"tag {tag!r} added",
                    pointer=join_pointer(optr, "tags"),
                    location=f"{optr}/tags#{tag}",
                    **ctx,
                )
        self._parameters(section, op, rtemplate, btemplate, bitem, bop, ritem, rop)
        self._request_body(op, rtemplate, optr, boptr, bop, rop)
        self._responses(op, rtemplate, optr, boptr, bop, rop)
        self._security(op, rtemplate, optr, bop, rop)

    # -- parameters ----------------------------------------------------------

    def _parameters(
        self,
        section: str,
        op: str,
        path: str,
        btemplate: str,
        bitem: Mapping[str, Any],
        bop: Mapping[str, Any],
        ritem: Mapping[str, Any],
        rop: Mapping[str, Any],
    ) -> None:
        bparams = _merged_parameters(
            self.rb, btemplate, bitem, bop, join_pointer(f"/{section}", btemplate)
        )
        rparams = _merged_parameters(self.rr, path, ritem, rop, join_pointer(f"/{section}", path))
        ctx: dict[str, Any] = {"operation": op, "path": path}
        op_ptr = join_pointer(f"/{section}", path, op.lower())
        for key, (bp, _bptr) in bparams.items():
            where_name = f"{bp.get('in')} request parameter `{bp.get('name')}`"
            location = f"{op_ptr}/parameters/{key}"
            if key not in rparams:
                stem, level, how = self._removal(bp, "request-parameter-removed")
                if stem.endswith("-without-deprecation"):
                    stem = "request-parameter-removed"
                self.add(
                    stem,
                    level,
                    f"removed the {where_name} {how}",
                    pointer=op_ptr,
                    location=location,
                    **ctx,
                )
                continue
            rp, rptr = rparams[key]
            where_name = f"{rp.get('in')} request parameter `{rp.get('name')}`"
            if rp.get("name") != bp.get("name"):  # a renamed path parameter
                where_name += f" (was `{bp.get('name')}`)"
            if bool(bp.get("required")) != bool(rp.get("required")):
                if rp.get("required"):
                    self.add(
                        "request-parameter-became-required",
                        E,
                        f"the {where_name} became required",
                        pointer=rptr,
                        location=location,
                        **ctx,
                    )
                else:
                    self.add(
                        "request-parameter-became-optional",
                        I,
                        f"the {where_name} became optional",
                        pointer=rptr,
                        location=location,
                        **ctx,
                    )
            if bool(bp.get("deprecated")) != bool(rp.get("deprecated")):
                kind = "deprecated" if rp.get("deprecated") else "reactivated"
                self.add(
                    f"request-parameter-{kind}",
                    I,
                    f"the {where_name} was {kind}",
                    pointer=rptr,
                    location=location,
                    **ctx,
                )
            where = Where(REQUEST, "parameter", op, path, f"the {where_name}", location)
            bschema, bsptr = _parameter_schema(bp, _bptr)
            rschema, rsptr = _parameter_schema(rp, rptr)
            if bschema is not None and rschema is not None:
                for delta in self.parameters.compare(bschema, rschema, bsptr, rsptr):
                    if not delta.prop and delta.kind in _NULLABILITY:
                        continue  # a parameter cannot be sent as null: FastAPI's Optional noise
                    self.out.append(change_for(delta, where))
        for key, (rp, rptr) in rparams.items():
            if key in bparams:
                continue
            where_name = f"{rp.get('in')} request parameter `{rp.get('name')}`"
            location = f"{op_ptr}/parameters/{key}"
            if rp.get("required"):
                self.add(
                    "new-required-request-parameter",
                    E,
                    f"added the required {where_name}",
                    pointer=rptr,
                    location=location,
                    **ctx,
                )
            else:
                self.add(
                    "new-optional-request-parameter",
                    I,
                    f"added the optional {where_name}",
                    pointer=rptr,
                    location=location,
                    **ctx,
                )

    # -- request body --------------------------------------------------------

    def _request_body(
        self,
        op: str,
        path: str,
        optr: str,
        boptr: str,
        bop: Mapping[str, Any],
        rop: Mapping[str, Any],
    ) -> None:
        ctx: dict[str, Any] = {"operation": op, "path": path}
        bbody = self.rb.node(bop.get("requestBody")) if bop.get("requestBody") is not None else None
        rbody_ptr = join_pointer(optr, "requestBody")
        rbody_node = rop.get("requestBody")
        rbody, rbody_ptr, _ = (
            self.rr.deref(rbody_node, rbody_ptr)
            if rbody_node is not None
            else (None, rbody_ptr, False)
        )
        if not isinstance(bbody, Mapping) and not isinstance(rbody, Mapping):
            return
        if not isinstance(bbody, Mapping):
            assert isinstance(rbody, Mapping)
            if rbody.get("required"):
                self.add(
                    "request-body-added-required",
                    E,
                    "added a required request body",
                    pointer=rbody_ptr,
                    **ctx,
                )
            else:
                self.add(
                    "request-body-added-optional",
                    I,
                    "added an optional request body",
                    pointer=rbody_ptr,
                    **ctx,
                )
            return
        if not isinstance(rbody, Mapping):
            self.add(
                "request-body-removed",
                E,
                "removed the request body",
                pointer=optr,
                location=rbody_ptr,
                **ctx,
            )
            return
        if bool(bbody.get("required")) != bool(rbody.get("required")):
            if rbody.get("required"):
                self.add(
                    "request-body-became-required",
                    E,
                    "the request body became required",
                    pointer=rbody_ptr,
                    **ctx,
                )
            else:
                self.add(
                    "request-body-became-optional",
                    I,
                    "the request body became optional",
                    pointer=rbody_ptr,
                    **ctx,
                )
        bcontent = _content(bbody)
        rcontent = _content(rbody)
        for media, bmedia in bcontent.items():
            location = join_pointer(optr, "requestBody", "content", media)
            if media not in rcontent:
                self.add(
                    "request-body-media-type-removed",
                    E,
                    f"removed the request media type {media}",
                    pointer=join_pointer(rbody_ptr, "content"),
                    location=location,
                    **ctx,
                )
                continue
            rmedia = rcontent[media]
            if not isinstance(bmedia, Mapping) or not isinstance(rmedia, Mapping):
                continue
            if "schema" in bmedia and "schema" in rmedia:
                where = Where(REQUEST, "body", op, path, f"the request body ({media})", location)
                bptr = join_pointer(boptr, "requestBody", "content", media, "schema")
                self._schemas(
                    self.requests,
                    where,
                    (bmedia["schema"], bptr),
                    (rmedia["schema"], join_pointer(rbody_ptr, "content", media, "schema")),
                )
        for media in rcontent:
            if media not in bcontent:
                self.add(
                    "request-body-media-type-added",
                    I,
                    f"added the request media type {media}",
                    pointer=join_pointer(rbody_ptr, "content", media),
                    **ctx,
                )

    # -- responses -----------------------------------------------------------

    def _responses(
        self,
        op: str,
        path: str,
        optr: str,
        boptr: str,
        bop: Mapping[str, Any],
        rop: Mapping[str, Any],
    ) -> None:
        ctx: dict[str, Any] = {"operation": op, "path": path}
        bresp = _mapping(bop.get("responses"))
        rresp = _mapping(rop.get("responses"))
        for code, bnode in bresp.items():
            code = str(code)
            kind = "success" if code.startswith("2") else "non-success"
            location = join_pointer(optr, "responses", code)
            if code not in rresp:
                level = E if kind == "success" else I
                self.add(
                    f"response-{kind}-status-removed",
                    level,
                    f"removed the {kind} response status {code}",
                    pointer=join_pointer(optr, "responses"),
                    location=location,
                    **ctx,
                )
                continue
            rnode = rresp[code]
            b = self.rb.node(bnode)
            r, rptr, _ = self.rr.deref(rnode, join_pointer(optr, "responses", code))
            if not isinstance(b, Mapping) or not isinstance(r, Mapping):
                continue
            self._response(
                op, path, code, location, join_pointer(boptr, "responses", code), b, r, rptr
            )
        bcodes = {str(c) for c in bresp}
        for code in rresp:
            code = str(code)
            if code not in bcodes:
                kind = "success" if code.startswith("2") else "non-success"
                self.add(
                    f"response-{kind}-status-added",
                    I,
                    f"added the {kind} response status {code}",
                    pointer=join_pointer(optr, "responses", code),
                    **ctx,
                )

    def _response(
        self,
        op: str,
        path: str,
        code: str,
        location: str,
        bptr_resp: str,
        b: Mapping[str, Any],
        r: Mapping[str, Any],
        rptr: str,
    ) -> None:
        ctx: dict[str, Any] = {"operation": op, "path": path}
        bcontent, rcontent = _content(b), _content(r)
        for media, bmedia in bcontent.items():
            mloc = join_pointer(location, "content", media)
            if media not in rcontent:
                self.add(
                    "response-media-type-removed",
                    E,
                    f"removed the media type {media} of the response {code}",
                    pointer=join_pointer(rptr, "content") if rcontent else rptr,
                    location=mloc,
                    **ctx,
                )
                continue
            rmedia = rcontent[media]
            if (
                isinstance(bmedia, Mapping)
                and isinstance(rmedia, Mapping)
                and "schema" in bmedia
                and "schema" in rmedia
            ):
                where = Where(RESPONSE, "body", op, path, f"the response {code} ({media})", mloc)
                bptr = join_pointer(bptr_resp, "content", media, "schema")
                self._schemas(
                    self.responses,
                    where,
                    (bmedia["schema"], bptr),
                    (rmedia["schema"], join_pointer(rptr, "content", media, "schema")),
                )
        for media in rcontent:
            if media not in bcontent:
                self.add(
                    "response-media-type-added",
                    I,
                    f"added the media type {media} to the response {code}",
                    pointer=join_pointer(rptr, "content", media),
                    **ctx,
                )
        bheaders = _mapping(b.get("headers"))
        rheaders = _mapping(r.get("headers"))
        rlower = {str(k).lower(): k for k in rheaders}
        for name, bh in bheaders.items():
            bh = self.rb.node(bh)
            hloc = join_pointer(location, "headers", str(name).lower())
            if str(name).lower() not in rlower:
                if isinstance(bh, Mapping) and bh.get("required"):
                    self.add(
                        "required-response-header-removed",
                        E,
                        f"removed the required response header {name} ({code})",
                        pointer=rptr,
                        location=hloc,
                        **ctx,
                    )
                else:
                    self.add(
                        "optional-response-header-removed",
                        W,
                        f"removed the optional response header {name} ({code})",
                        pointer=rptr,
                        location=hloc,
                        **ctx,
                    )
                continue
            rname = rlower[str(name).lower()]
            rh, rhptr, _ = self.rr.deref(rheaders[rname], join_pointer(rptr, "headers", rname))
            if isinstance(bh, Mapping) and isinstance(rh, Mapping):
                if bh.get("required") and not rh.get("required"):
                    self.add(
                        "response-header-became-optional",
                        E,
                        f"the response header {name} ({code}) became optional",
                        pointer=rhptr,
                        location=hloc,
                        **ctx,
                    )
                if "schema" in bh and "schema" in rh:
                    where = Where(
                        RESPONSE, "header", op, path, f"the response header {name} ({code})", hloc
                    )
                    self._schemas(
                        self.responses,
                        where,
                        (bh["schema"], ""),
                        (rh["schema"], join_pointer(rhptr, "schema")),
                    )

    def _schemas(
        self,
        comparer: SchemaComparer,
        where: Where,
        base: tuple[Any, str],
        revision: tuple[Any, str],
    ) -> None:
        """The changes between two schemas at `where` (node and pointer on each side)."""
        deltas = comparer.compare(base[0], revision[0], base[1], revision[1])
        self.out.extend(change_for(delta, where) for delta in deltas)

    # -- security ------------------------------------------------------------

    def _security(
        self, op: str, path: str, optr: str, bop: Mapping[str, Any], rop: Mapping[str, Any]
    ) -> None:
        diff_requirements(
            self.add,
            op,
            path,
            optr,
            bop,
            rop,
            (self.base.data, self.base_schemes),
            (self.revision.data, self.revision_schemes),
        )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _paths(data: Mapping[str, Any], section: str) -> dict[str, tuple[str, Any]]:
    paths = data.get(section)
    if not isinstance(paths, Mapping):
        return {}
    out: dict[str, tuple[str, Any]] = {}
    for template, item in paths.items():
        key = (
            _PARAM.sub("{}", str(template).rstrip("/") or "/")
            if section == "paths"
            else str(template)
        )
        out.setdefault(key, (str(template), item))
    return out


def _operations(resolver: Resolver, item: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    item = resolver.node(item)
    if not isinstance(item, Mapping):
        return
    for method in HTTP_METHODS:
        op = item.get(method)
        if isinstance(op, Mapping):
            yield method, op


def _merged_parameters(
    resolver: Resolver, template: str, item: Mapping[str, Any], op: Mapping[str, Any], item_ptr: str
) -> dict[str, tuple[Mapping[str, Any], str]]:
    """Effective parameters keyed `in:name` (headers case-insensitive, path
    parameters by their position in the template), with their pointers."""
    names = [m.group(0)[1:-1] for m in _PARAM.finditer(template)]
    method = next((m for m in HTTP_METHODS if item.get(m) is op), "")
    out: dict[str, tuple[Mapping[str, Any], str]] = {}
    for source, ptr in (
        (item.get("parameters"), f"{item_ptr}/parameters"),
        (op.get("parameters"), f"{item_ptr}/{method}/parameters"),
    ):
        if not isinstance(source, list):
            continue
        for index, raw in enumerate(source):
            param, pptr, _ = resolver.deref(raw, f"{ptr}/{index}")
            if not isinstance(param, Mapping):
                continue
            location, name = str(param.get("in")), str(param.get("name"))
            if location == "path" and name in names:
                key = f"path:{{{names.index(name)}}}"
            elif location == "header":
                key = f"header:{name.lower()}"
            else:
                key = f"{location}:{name}"
            out[key] = (param, pptr)
    return out


def _parameter_schema(param: Mapping[str, Any], ptr: str) -> tuple[Any, str]:
    if "schema" in param:
        return param["schema"], join_pointer(ptr, "schema")
    content = param.get("content")
    if isinstance(content, Mapping):
        for media, value in content.items():
            if isinstance(value, Mapping) and "schema" in value:
                return value["schema"], join_pointer(ptr, "content", media, "schema")
    return None, ptr


def _content(node: Mapping[str, Any]) -> Mapping[str, Any]:
    content = node.get("content")
    return content if isinstance(content, Mapping) else {}
