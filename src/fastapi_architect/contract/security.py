"""Security: the requirements of each operation and the schemes they name.

Schemes are identified by their definition, not their name: renaming
`OAuth2PasswordBearer` to `JWT` with the same definition changes nothing a
client sends. A scheme whose definition changes (another header name, `in`,
HTTP scheme) breaks every client that authenticates with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from fastapi_architect.contract.changes import Level, join_pointer
from fastapi_architect.contract.refs import Resolver

E, W, I = Level.ERROR, Level.WARNING, Level.INFO  # noqa: E741 - a level table reads best short
Add = Callable[..., None]
Requirement = dict[str, list[str]]

# (key of the scheme, change id, level, what it means to a client)
_SCHEME_FIELDS = (
    (
        "name",
        "api-security-component-api-key-name-changed",
        E,
        "the API key travels under another name",
    ),
    ("in", "api-security-component-api-key-in-changed", E, "the API key travels elsewhere"),
    (
        "scheme",
        "api-security-component-http-scheme-changed",
        E,
        "clients must send other credentials",
    ),
    ("bearerFormat", "api-security-component-bearer-format-changed", I, "a documentation hint"),
    (
        "openIdConnectUrl",
        "api-security-component-open-id-connect-url-changed",
        W,
        "clients discover elsewhere",
    ),
)
_FLOW_URLS = (
    ("authorizationUrl", "api-security-component-oauth-url-changed"),
    ("tokenUrl", "api-security-component-oauth-token-url-changed"),
    ("refreshUrl", "api-security-component-oauth-refresh-url-changed"),
)


class SchemeIds:
    """Scheme name -> identity (its definition) in one document."""

    def __init__(self, data: Mapping[str, Any], resolver: Resolver) -> None:
        self.schemes = {name: resolver.node(scheme) for name, scheme in _schemes(data).items()}
        self._ids = {name: _identity(scheme) for name, scheme in self.schemes.items()}

    def identity(self, name: str) -> str:
        return self._ids.get(name) or f"name:{name}"


def diff_requirements(
    add: Add,
    op: str,
    path: str,
    optr: str,
    bop: Mapping[str, Any],
    rop: Mapping[str, Any],
    base: tuple[Mapping[str, Any], SchemeIds],
    revision: tuple[Mapping[str, Any], SchemeIds],
) -> None:
    """The operation's effective requirements (its own, else the document's)."""
    (bdata, bids), (rdata, rids) = base, revision
    bsec = _requirements(bop.get("security", bdata.get("security")))
    rsec = _requirements(rop.get("security", rdata.get("security")))
    bkeys = {_key(req, bids): req for req in bsec}
    rkeys = {_key(req, rids): req for req in rsec}
    if set(bkeys) == set(rkeys) and all(
        _scopes(bkeys[k], bids) == _scopes(rkeys[k], rids) for k in bkeys
    ):
        return
    ctx: dict[str, Any] = {"operation": op, "path": path}
    pointer = join_pointer(optr, "security") if "security" in rop else "/security"
    b_open = not bsec or frozenset() in bkeys
    r_open = not rsec or frozenset() in rkeys
    for key, req in rkeys.items():
        if key in bkeys or not key:
            continue
        # a new alternative loosens; a first requirement on an open operation breaks clients
        level = E if b_open and not r_open else I
        note = " (the operation was public)" if level is E else ""
        add(
            "api-security-added",
            level,
            f"added the security requirement {_names(req)}{note}",
            pointer=pointer,
            location=f"{optr}/security/{'+'.join(sorted(key))}",
            **ctx,
        )
    for key, req in bkeys.items():
        if key in rkeys or not key:
            continue
        # dropping one of several alternatives locks its users out; dropping all opens the operation
        level = I if r_open else E
        note = " (the operation is now public)" if r_open else ""
        add(
            "api-security-removed",
            level,
            f"removed the security requirement {_names(req)}{note}",
            pointer=pointer,
            location=f"{optr}/security/{'+'.join(sorted(key))}",
            **ctx,
        )
    for key in set(bkeys) & set(rkeys):
        bscopes, rscopes = _scopes(bkeys[key], bids), _scopes(rkeys[key], rids)
        for identity in sorted(set(bscopes) | set(rscopes)):
            before, after = bscopes.get(identity, set()), rscopes.get(identity, set())
            scheme = _name_of(rkeys[key], rids, identity)
            for scope in sorted(after - before):
                add(
                    "api-security-scope-added",
                    E,
                    f"the security scheme {scheme} now also requires the scope {scope!r}",
                    pointer=pointer,
                    location=f"{optr}/security/{identity}/{scope}",
                    **ctx,
                )
            for scope in sorted(before - after):
                add(
                    "api-security-scope-removed",
                    I,
                    f"the security scheme {scheme} no longer requires the scope {scope!r}",
                    pointer=pointer,
                    location=f"{optr}/security/{identity}/{scope}",
                    **ctx,
                )


def diff_schemes(add: Add, base: SchemeIds, revision: SchemeIds) -> None:
    """Changes of `components.securitySchemes`, matching renamed schemes by definition."""
    rnames_by_id: dict[str, list[str]] = {}
    for name in revision.schemes:
        rnames_by_id.setdefault(revision.identity(name), []).append(name)
    matched: dict[str, str] = {}
    for name in base.schemes:
        if name in revision.schemes:
            matched[name] = name
        else:
            same = [n for n in rnames_by_id.get(base.identity(name), []) if n not in base.schemes]
            if len(same) == 1:
                matched[name] = same[0]  # renamed, same definition
    for name, bs in base.schemes.items():
        location = join_pointer("/components/securitySchemes", name)
        if name not in matched:
            add(
                "api-security-component-removed",
                I,
                f"removed the security scheme {name}",
                pointer="/components",
                location=location,
            )
            continue
        rname = matched[name]
        rs = revision.schemes[rname]
        if isinstance(bs, Mapping) and isinstance(rs, Mapping):
            _diff_scheme(add, rname, join_pointer("/components/securitySchemes", rname), bs, rs)
    for rname in revision.schemes:
        if rname not in matched.values():
            add(
                "api-security-component-added",
                I,
                f"added the security scheme {rname}",
                pointer=join_pointer("/components/securitySchemes", rname),
            )


def _diff_scheme(
    add: Add, name: str, location: str, bs: Mapping[str, Any], rs: Mapping[str, Any]
) -> None:
    if bs.get("type") != rs.get("type"):
        add(
            "api-security-component-type-changed",
            E,
            f"the security scheme {name} changed type from {bs.get('type')} to {rs.get('type')}",
            pointer=join_pointer(location, "type"),
        )
        return
    for key, ident, level, meaning in _SCHEME_FIELDS:
        before, after = bs.get(key), rs.get(key)
        if before != after and not (
            key in ("name", "scheme") and _same_case_insensitive(before, after, key, bs)
        ):
            add(
                ident,
                level,
                f"the security scheme {name}: `{key}` changed from {before!r} to {after!r} ({meaning})",
                pointer=join_pointer(location, key) if after is not None else location,
            )
    bflows, rflows = _flows(bs), _flows(rs)
    for flow, bflow in bflows.items():
        rflow = rflows.get(flow)
        if rflow is None:
            add(
                "api-security-component-oauth-flow-removed",
                E,
                f"removed the {flow} flow of the security scheme {name}",
                pointer=location,
            )
            continue
        where = join_pointer(location, "flows", flow)
        for url, ident in _FLOW_URLS:
            if bflow.get(url) != rflow.get(url):
                add(
                    ident,
                    I,
                    f"the {url} of the {flow} flow of {name} changed from {bflow.get(url)!r} to {rflow.get(url)!r}",
                    pointer=join_pointer(where, url) if url in rflow else where,
                )
        bscopes, rscopes = _mapping(bflow.get("scopes")), _mapping(rflow.get("scopes"))
        for scope in bscopes:
            if scope not in rscopes:
                add(
                    "api-security-component-oauth-scope-removed",
                    E,
                    f"removed the scope {scope!r} of the {flow} flow of {name}",
                    pointer=join_pointer(where, "scopes"),
                    location=join_pointer(where, "scopes", scope),
                )
        for scope in rscopes:
            if scope not in bscopes:
                add(
                    "api-security-component-oauth-scope-added",
                    I,
                    f"added the scope {scope!r} to the {flow} flow of {name}",
                    pointer=join_pointer(where, "scopes", scope),
                )


def _same_case_insensitive(before: Any, after: Any, key: str, scheme: Mapping[str, Any]) -> bool:
    """HTTP auth schemes and header names are case-insensitive."""
    if not isinstance(before, str) or not isinstance(after, str):
        return False
    if key == "scheme" or (key == "name" and scheme.get("in") == "header"):
        return before.lower() == after.lower()
    return False


def _identity(scheme: Any) -> str | None:
    if not isinstance(scheme, Mapping):
        return None
    meaning = {
        k: v for k, v in scheme.items() if k not in ("description",) and not str(k).startswith("x-")
    }
    for key in ("scheme",):
        if isinstance(meaning.get(key), str):
            meaning[key] = meaning[key].lower()
    return json.dumps(meaning, sort_keys=True, default=str)


def _key(req: Requirement, ids: SchemeIds) -> frozenset[str]:
    return frozenset(ids.identity(name) for name in req)


def _scopes(req: Requirement, ids: SchemeIds) -> dict[str, set[str]]:
    return {ids.identity(name): set(scopes) for name, scopes in req.items()}


def _name_of(req: Requirement, ids: SchemeIds, identity: str) -> str:
    return next((name for name in req if ids.identity(name) == identity), identity)


def _names(req: Requirement) -> str:
    return " and ".join(sorted(req)) or "none"


def _requirements(value: Any) -> list[Requirement]:
    if not isinstance(value, list):
        return []
    return [
        {str(k): [str(s) for s in (v or [])] for k, v in req.items()}
        for req in value
        if isinstance(req, Mapping)
    ]


def _schemes(data: Mapping[str, Any]) -> Mapping[str, Any]:
    components = data.get("components")
    if not isinstance(components, Mapping):
        return {}
    schemes = components.get("securitySchemes")
    return schemes if isinstance(schemes, Mapping) else {}


def _flows(scheme: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    flows = scheme.get("flows")
    if not isinstance(flows, Mapping):
        return {}
    return {str(k): v for k, v in flows.items() if isinstance(v, Mapping)}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
