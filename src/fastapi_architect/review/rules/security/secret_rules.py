"""FAA304: secrets, passwords, tokens and DSN passwords written in the source."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import lru_cache

from fastapi_architect.model.astutil import argument, call_name, const_str, keyword
from fastapi_architect.model.build import AppModel
from fastapi_architect.model.project import ClassInfo, Module
from fastapi_architect.model.pydantic_names import FIELD_FUNCTIONS, MODEL_BASES
from fastapi_architect.model.types import infer_type
from fastapi_architect.review.context import FileContext
from fastapi_architect.review.finding import Severity
from fastapi_architect.review.index import project_index
from fastapi_architect.review.registry import Report, rule
from fastapi_architect.review.rules._orm import is_test_module
from fastapi_architect.review.rules.security._common import (
    NOT_CREDENTIAL_PREFIXES,
    SECRET_TYPES,
    assigned_name,
    display,
    in_tests,
    jwt_call,
    keyword_hits,
    literal_string,
    module_constant,
    name_matches,
    name_words,
    security_state,
)

_SECRET_KEYWORDS: tuple[tuple[str, ...], ...] = (
    ("secret",),
    ("password",),
    ("passwd",),
    ("pwd",),
    ("passphrase",),
    ("pass",),
    ("token",),
    ("api", "key"),
    ("apikey",),
    ("private", "key"),
    ("signing", "key"),
    ("encryption", "key"),
    ("jwt", "key"),
)
_SECRET_TAILS = frozenset(
    {
        "key",
        "value",
        "val",
        "str",
        "string",
        "bytes",
        "b64",
        "base64",
        "hex",
        "raw",
        "pem",
        "access",
        "secret",
        "text",
        "plain",
    }
)
_NOT_SECRET_PREFIXES = NOT_CREDENTIAL_PREFIXES | frozenset(
    {
        "use",
        "enable",
        "enabled",
        "require",
        "required",
        "show",
        "invalid",
        "expired",
        "missing",
        "wrong",
        "bad",
        "incorrect",
        "err",
        "error",
        "msg",
        "message",
        "grant",
        "on",
        # What is shown in place of the secret (`_REDACTED_PASSWORD`, `MASKED_TOKEN`).
        "redacted",
        "masked",
        "placeholder",
    }
)
_PLACEHOLDER_RE = re.compile(
    r"<[^>]*>|\[[^\]]*\]|\$\{[^}]*\}|\{\{[^}]*\}\}|x{3,}|\*{3,}|\.{3,}|-{3,}|"
    r"(?:change|replace|update|set)[-_ ]?(?:me|this|it)(?:[-_ ].*)?|"
    r"your[-_ ].*|(?:dummy|example|sample|placeholder|todo|fixme|tbd|redacted)(?:[-_ ].*)?",
    re.IGNORECASE,
)
# What a secret is replaced with when it is shown (`<redacted>`, `[REDACTED]`, `***`,
# `<hidden>`): it stands for a secret and is none.
_MASK_RE = re.compile(
    r"[*\u2022\u25cf]{3,}|\**redacted\**|"
    r"\**[\[<({]\s*(?:redacted|hidden|masked|filtered|omitted|removed|censored|obfuscated"
    r"|scrubbed)\s*[\]>)}]\**",
    re.IGNORECASE,
)
_DSN_RE = re.compile(
    r"^[a-zA-Z][a-zA-Z0-9+.\-]*://(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@(?P<host>[^/?#\s]*)"
)
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"})
_FILE_NAME_RE = re.compile(r"[\w./\\-]+\.(?:pem|key|crt|cer|der|p12|pfx|json|txt|env|ya?ml|pub)")
_ENV_NAME_RE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_HEADER_NAME_RE = re.compile(r"[Xx]-[A-Za-z0-9-]+")
_AUTH_SCHEME_WORDS = frozenset({"bearer", "basic", "digest", "authorization", "token", "jwt"})
_PEM_MARK = "-----BEGIN "

_SETTINGS_BASES = frozenset(
    {
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic.v1.BaseSettings",
        "pydantic.v1.env_settings.BaseSettings",
    }
)
# Classes that hold data: a schema (Pydantic's and SQLModel's roots) or a typed record.
_MODEL_BASES = MODEL_BASES | {
    "pydantic.v1.BaseModel",
    "typing.NamedTuple",
    "typing.TypedDict",
    "typing_extensions.TypedDict",
}
_ENUM_BASES = frozenset({"enum.Enum", "enum.StrEnum", "enum.IntEnum", "enum.Flag", "enum.IntFlag"})
_DATACLASS_DECORATORS = frozenset(
    {
        "dataclasses.dataclass",
        "pydantic.dataclasses.dataclass",
        "attr.s",
        "attr.attrs",
        "attr.define",
        "attrs.define",
        "attrs.frozen",
        "attr.frozen",
    }
)
_ENV_GETTERS = frozenset(
    {"os.getenv", "os.environ.get", "os.environ.setdefault", "decouple.config"}
)
_STARLETTE_CONFIG = frozenset({"starlette.config.Config", "decouple.AutoConfig", "decouple.Config"})
# Keyword arguments that carry documentation, not values.
_DOC_KEYWORDS = frozenset(
    {"description", "help", "example", "examples", "title", "summary", "doc", "deprecated"}
)


@lru_cache(maxsize=4096)
def _secret_name(name: str) -> bool:
    return name_matches(name, _SECRET_KEYWORDS, _SECRET_TAILS, _NOT_SECRET_PREFIXES)


# Keys a service hands to client-side code, public by design: PostHog's project key,
# Stripe's publishable keys (their secret kinds, `phx_` and `sk_`, are secrets).
_PUBLIC_KEY_RE = re.compile(r"(?:phc|pk_live|pk_test)_[A-Za-z0-9]{16,}")


def _placeholder(value: str) -> bool:
    return _PLACEHOLDER_RE.fullmatch(value.strip()) is not None


def _mask(value: str) -> bool:
    return _MASK_RE.fullmatch(value.strip()) is not None


def secret_value(name: str, value: str, *, stand_ins: bool = False) -> bool:
    """Is this literal a secret (not a label, path, header name or message) for this name?
    With `stand_ins`, a stand-in (`_DUMMY_SECRET = "dummy_secret"`) counts as one too."""
    v = value.strip()
    if not v:
        return False
    if _PUBLIC_KEY_RE.fullmatch(v):
        return False  # a key the service publishes for browsers and apps
    if _PEM_MARK in v:
        return True
    if _mask(v):
        return False  # `_REDACTED_PASSWORD = "<redacted>"`: shown in place of a secret
    if not stand_ins and _stand_in(name, v):
        # `_DUMMY_SECRET = "dummy_secret"`: hashed to equalize login timing, or a test
        # double's password; both the name and the value say it is no credential.
        return False
    if _placeholder(v):
        # A placeholder ships as the secret when nobody sets the variable; for a key
        # issued by another service it is only a dummy the service rejects.
        return not _issued_credential(name)
    if any(c.isspace() for c in v):
        return False  # a message ("Invalid token"), not a key
    if v.startswith(("/", "./", "../", "~/")) or _FILE_NAME_RE.fullmatch(v):
        return False  # a route (`tokenUrl`) or a key file
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://", v) and _DSN_RE.match(v) is None:
        return False  # a URL without credentials (token endpoint)
    if _HEADER_NAME_RE.fullmatch(v) or v.lower() in _AUTH_SCHEME_WORDS:
        return False  # a header name or auth scheme
    if _ENV_NAME_RE.fullmatch(v):
        return False  # the name of the environment variable that holds the secret
    if _KEY_PATH_RE.fullmatch(v) or _SENTINEL_RE.fullmatch(v):
        # An attribute key or URN (`"gen_ai.usage.input_tokens"`,
        # `"urn:ietf:params:oauth:token-type:access_token"`), or a `__sentinel__`.
        return False
    if _issued_credential(name) and _plain_label(name, v):
        return False  # `token="ui-token"`, `api_key="fake-api-key"`: not a provider key
    if _EXCLAIMED_RE.fullmatch(v):
        # The secret word with an exclamation mark (`"!secret"`, `"secret!"`): a chosen
        # secret, not the name of a field. Template, query and field syntax around the
        # word (`"{api_key}"`, `"?access_token"`, `"password[]"`) still makes a label.
        return True
    if _spells_name(name, v):
        return False  # `CSRF_TOKEN_KEY = "csrftoken"`: the name of the field
    # A label: the value repeats the secret word of the name (`ACCESS_TOKEN =
    # "access_token"`, `fb_api_key = "api_key"`, `"password"` as an OAuth2 grant type).
    # `POSTGRES_PASSWORD = "postgres"` repeats a word too, but not the secret one.
    value_words = name_words(v)
    if value_words and next(keyword_hits(value_words, _SECRET_KEYWORDS), None) is not None:
        joined = "_" + "_".join(name_words(name)) + "_"
        if "_" + "_".join(value_words) + "_" in joined:
            return False
    return True


_KEY_PATH_RE = re.compile(r"[a-z][a-z0-9_\-]*(?:[.:][a-z][a-z0-9_\-]*)+")
_SENTINEL_RE = re.compile(r"__\w+__")
_LABEL_RE = re.compile(r"[a-z]+(?:[-_ ][a-z]+)*")
# A word led or followed by exclamation marks (khoj's `"!secret"`): no label has them.
_EXCLAIMED_RE = re.compile(r"!+\w+|\w+!+")
# Words that make a name and a value a stand-in (`_DUMMY_SECRET = "dummy_secret"`).
_STAND_IN_WORDS = frozenset({"dummy", "fake"})
# Credentials a service issues (API keys, tokens) are random strings; the ones people
# choose (passwords, signing secrets) may be plain words, and then they are the bug.
_ISSUED_KEYWORDS: tuple[tuple[str, ...], ...] = (("token",), ("api", "key"), ("apikey",))
_CHOSEN_KEYWORDS = tuple(k for k in _SECRET_KEYWORDS if k not in _ISSUED_KEYWORDS)
_CHOSEN_WORDS = frozenset(
    {"secret", "password", "passwd", "pass", "pwd", "admin", "root", "letmein", "private"}
)
_DUMMY_WORDS = frozenset(
    {
        "fake",
        "mock",
        "dummy",
        "test",
        "testing",
        "sample",
        "example",
        "placeholder",
        "sentinel",
        "unused",
        "none",
        "null",
        "empty",
        "redacted",
        "unknown",
        "anonymous",
        "ignored",
        "unset",
        "blank",
        "nil",
        "nokey",
        "notneeded",
        "notused",
    }
)
# Local model servers with an OpenAI-compatible API that ignore the key; their docs use
# the server's name as the dummy the client library insists on (`api_key="ollama"`).
_KEYLESS_SERVERS = frozenset(
    {
        "ollama",
        "lmstudio",
        "vllm",
        "llamacpp",
        "llamafile",
        "localai",
        "sglang",
        "tgi",
        "xinference",
        "koboldcpp",
        "gpt4all",
        "jan",
        "local",
    }
)
_WORD_RE = re.compile(r"[a-z]+|[A-Z][a-z]*|[A-Z]+")
_KEYWORD_WORDS = frozenset(w for kw in _SECRET_KEYWORDS for w in kw)


@lru_cache(maxsize=4096)
def _issued_credential(name: str) -> bool:
    """Named as an API key or token, and not also as a password or secret."""
    return name_matches(
        name, _ISSUED_KEYWORDS, _SECRET_TAILS, _NOT_SECRET_PREFIXES
    ) and not name_matches(name, _CHOSEN_KEYWORDS, _SECRET_TAILS, _NOT_SECRET_PREFIXES)


def _stand_in(name: str, value: str) -> bool:
    """Both the name and the value say dummy or fake (`_DUMMY_SECRET = "dummy_secret"`);
    the value is lowercase words, without the digits or capitals a real secret holds."""
    return (
        not _STAND_IN_WORDS.isdisjoint(name_words(name))
        and _LABEL_RE.fullmatch(value) is not None
        and not _STAND_IN_WORDS.isdisjoint(re.split(r"[-_ ]", value))
    )


def _used_as_secret(ctx: FileContext, name: str) -> bool:
    """Does code outside the tests use the module constant `name` of this module as a
    secret: as the value or fallback of a setting named like a secret (`SECRET_KEY =
    os.getenv("SECRET_KEY", _DUMMY_SECRET)`, `... or _DUMMY_SECRET`, a field default),
    as the default of an environment read of such a variable, passed as a keyword named
    like one (`secret_key=_DUMMY_SECRET`) or as the key of `jwt.encode`/`jwt.decode`?"""
    qualname = f"{ctx.module.name}.{name}"
    project = ctx.project
    return any(
        project.resolve(module, expr) == qualname
        for module, expr in project_index(ctx.model, _secret_slots).get(name, ())
    )


def _secret_slots(model: AppModel) -> dict[str, list[tuple[Module, ast.expr]]]:
    """The names and attributes found in secret slots (see `_used_as_secret`) outside the
    tests, by their last name."""
    found: dict[str, list[tuple[Module, ast.expr]]] = {}
    for module in model.project.modules.values():
        if is_test_module(module):
            continue
        for node in ast.walk(module.tree):
            for expr in _slot_values(module, node):
                if isinstance(expr, (ast.Name, ast.Attribute)):
                    key = expr.id if isinstance(expr, ast.Name) else expr.attr
                    found.setdefault(key, []).append((module, expr))
    return found


def _slot_values(module: Module, node: ast.AST) -> Iterator[ast.expr]:
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(
            _secret_name(t.id if isinstance(t, ast.Name) else t.attr)
            for t in targets
            if isinstance(t, (ast.Name, ast.Attribute))
        ):
            yield from _stored_values(node.value)
    elif isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg is not None and kw.arg not in _DOC_KEYWORDS and _secret_name(kw.arg):
                yield from _stored_values(kw.value)
        env_name = const_str(node.args[0]) if node.args else None
        if env_name and _secret_name(env_name):
            yield from _stored_values(node)
        if call_name(node) in ("encode", "decode") and module.imports_anything("jwt", "jose"):
            key = argument(node, 1, "key")
            if key is not None:
                yield key


def _stored_values(value: ast.expr) -> Iterator[ast.expr]:
    """What a value stores, seen through `... or fallback`, `Field(default=...)` and the
    default of an environment read (`os.getenv("X", default)`, `config("X", default=...)`)."""
    yield value
    if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or):
        yield from _stored_values(value.values[-1])
    elif isinstance(value, ast.Call):
        name = call_name(value)
        if (
            name == "Field"
            or name in ("getenv", "get", "setdefault")
            or (name or "").lower().endswith("config")
        ):
            default = keyword(value, "default")
            if default is None and name != "Field" and len(value.args) > 1:
                default = value.args[1]
            elif default is None and name == "Field" and value.args:
                default = value.args[0]
            if default is not None:
                yield default


def _plain_label(name: str, value: str) -> bool:
    """Lowercase words (`"ui-token"`, `"failed-to-connect-to-db"`, `"fake-api-key"`): a
    label or a dummy, never a key a provider issued. A single word counts only when it
    repeats the name, says it is a dummy (`"none"`, also `"EMPTY"` in capitals) or names
    a local server that ignores the key (`"ollama"`); words that people pick as secrets
    do not. A value without a letter or digit (`"-"`) is a dummy too."""
    if not any(c.isalnum() for c in value):
        return True
    if _WORD_RE.fullmatch(value) and value.lower() in _DUMMY_WORDS | _KEYLESS_SERVERS:
        return True
    if not _LABEL_RE.fullmatch(value):
        return False
    words = re.split(r"[-_ ]", value)
    if set(words) & _CHOSEN_WORDS:
        return False
    if len(words) > 1:
        return True
    return words[0] in name_words(name)


def _spells_name(name: str, value: str) -> bool:
    """Does the value spell a run of the name's words that holds the secret word, without
    separators (`CSRF_TOKEN_KEY = "csrftoken"`)? Then it is the field's name."""
    squashed = re.sub(r"[^a-z0-9]", "", value.lower())
    words = name_words(name)
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            run = words[i:j]
            if "".join(run) == squashed and set(run) & _KEYWORD_WORDS:
                return True
    return False


def _dsn_password(value: str) -> tuple[str, bool] | None:
    """The inline password of a DSN and whether it looks like a local/dev placeholder."""
    match = _DSN_RE.match(value.strip())
    if match is None:
        return None
    password = match["password"]
    if any(t in password for t in ("$", "{", "}", "%s", "%(", "<", ">")):
        return None  # a template filled in at runtime
    if _mask(password):
        return None  # `user:****@host`: a DSN printed with its password masked
    host = match["host"].lower()
    hostname = host if host.startswith("[") else host.split(":")[0]
    # `guest:guest@rabbitmq`, `postgres:postgres@db`: a container's well-known default.
    weak = _placeholder(password) or password == match["user"] or hostname in _LOCAL_HOSTS
    return password, weak


def _severity(overridable: bool, lowered: bool) -> Severity:
    """A literal nothing overrides is the secret in production (`error`); a default that
    configuration overrides leaks only when the variable is missing (`warning`); either is
    one step lower when the value is an obvious placeholder."""
    if overridable:
        return "info" if lowered else "warning"
    return "warning" if lowered else "error"


def _class_info(ctx: FileContext, node: ast.ClassDef) -> ClassInfo | None:
    state = security_state(ctx.model)
    if state.classes_by_node is None:
        state.classes_by_node = {id(c.node): c for c in ctx.project.classes.values()}
    return state.classes_by_node.get(id(node))


def _class_kind(ctx: FileContext, info: ClassInfo) -> str:
    """ "settings", "model" (fields overridable per instance), "enum" or "plain"."""
    state = security_state(ctx.model)
    kind = state.class_kinds.get(info.qualname)
    if kind is None:
        mro = set(ctx.project.mro(info.qualname))
        if mro & _ENUM_BASES:
            kind = "enum"
        elif mro & _SETTINGS_BASES:
            kind = "settings"
        elif mro & _MODEL_BASES or any(
            ctx.project.resolve(info.module, d.func if isinstance(d, ast.Call) else d)
            in _DATACLASS_DECORATORS
            for d in info.node.decorator_list
        ):
            kind = "model"
        else:
            kind = "plain"
        state.class_kinds[info.qualname] = kind
    return kind


def _scope_of_statement(ctx: FileContext) -> tuple[str, ClassInfo | None]:
    """ "module", "class" (with its info) or "function" for the statement being visited."""
    for anc in reversed(ctx.stack):
        if isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return "function", None
        if isinstance(anc, ast.ClassDef):
            return "class", _class_info(ctx, anc)
    return "module", None


@rule(
    code="FAA304",
    name="hardcoded-secret",
    summary="A secret key, password, token or DSN password is written in the source",
    severity="error",
    nodes=(ast.Assign, ast.AnnAssign, ast.Call),
    fix_title="Read the secret from the environment through a `BaseSettings` field without a "
    "default",
    cwe=("CWE-798",),
    owasp=("API2:2023", "API8:2023"),
    references=(
        "https://fastapi.tiangolo.com/advanced/settings/",
        "https://docs.pydantic.dev/latest/concepts/pydantic_settings/",
    ),
)
def hardcoded_secret(node: ast.AST, ctx: FileContext) -> list[Report]:
    """## What it does
    Finds secrets written as literals:
    - module- and class-level constants named like a secret (`SECRET_KEY`, `JWT_SECRET`,
      `API_KEY`, `DB_PASSWORD`, `GITHUB_TOKEN`, `PRIVATE_KEY`...);
    - `BaseSettings` fields with such names and a literal default, `Field(default="...")`
      included (pydantic-settings and pydantic v1, also through project base classes),
      and fields of models and dataclasses;
    - keyword arguments with such names (`SessionMiddleware(secret_key="...")`,
      `redis.Redis(password="...")`), and the key of `jwt.encode(payload, "literal")`;
    - literal fallbacks of environment reads: `os.getenv("SECRET_KEY", "dev")`,
      `os.environ.get`, `decouple.config`, starlette's `Config(...)(default=...)`, and
      `SECRET_KEY = os.getenv("SECRET_KEY") or "dev"`;
    - DSNs with an inline password (`postgresql://user:pass@host/db`) anywhere they are
      assigned or passed.

    Not reported: values computed at startup (`secrets.token_urlsafe(32)`, the official
    template's default), empty strings, names that are not secrets (`token_url`,
    `TOKEN_TYPE`, `password_min_length`, `SECRET_KEY_NAME = "X-API-Key"`), values that
    are paths, header names, environment variable names, messages or labels
    (`ACCESS_TOKEN = "access_token"`, `CSRF_TOKEN_KEY = "csrftoken"`, Enum members; a
    value that adds exclamation marks to the word is no label: `"!secret"` is reported,
    `"{api_key}"`, `"?access_token"` and `"password[]"` are labels),
    attribute keys and URNs (`INPUT_TOKEN_KEY = "gen_ai.usage.input_tokens"`),
    `__sentinel__` values, stand-ins whose name and value both say so
    (`_DUMMY_SECRET = "dummy_secret"`, hashed to make a failed login take as long as a
    wrong password; `DUMMY_PASSWORD = "hunter2"` and `SECRET_KEY = "dummy-key"` are
    still reported, and so is a stand-in constant that the code uses as a secret: the
    fallback of `SECRET_KEY = os.getenv("SECRET_KEY", _DUMMY_SECRET)`, a secret field's
    default, `secret_key=_DUMMY_SECRET`, the key of `jwt.encode`), DSNs whose password is a template
    (`postgresql://user:${PASSWORD}@...`) or absent, and files under `tests/`,
    `testing/`, `test_*.py`, `conftest.py` and modules that define pytest fixtures. API keys and tokens are issued by a
    service as random strings, so in those slots (not in passwords or signing secrets)
    lowercase labels and dummies (`token="ui-token"`, `api_key="fake-api-key"`,
    `api_key="EMPTY"`, `api_key="-"`), the name of a local model server that ignores the
    key (`api_key="ollama"`, `"vllm"`, `"lm-studio"`) and placeholders
    (`api_key="<empty>"`) are not reported either. Masks shown in place of a secret are
    not secrets: names that say so (`_REDACTED_PASSWORD`, `MASKED_TOKEN`,
    `PLACEHOLDER_PASSWORD`, `PASSWORD_MASK`), mask values in any slot (`"<redacted>"`,
    `"[REDACTED]"`, `"REDACTED"`, `"***"`, `"********"`, `"<hidden>"`, `"[FILTERED]"`)
    and DSNs whose password is one (`postgresql://app:****@db/app`, a DSN printed for
    people to read). Nor are keys a service publishes for client-side code: PostHog
    project keys (`phc_...`) and Stripe publishable keys (`pk_live_...`, `pk_test_...`).

    Severity: a constant nothing overrides is the production secret (`error`); a settings
    default or environment fallback leaks only when the variable is missing (`warning`).
    Obvious placeholders (`"changethis"`, `"change-me"`, `"your-secret-key"`, `"<...>"`,
    `"xxx"`, `"..."`, `"${...}"`, whole-value matches only, masks aside) and DSNs pointing at
    `localhost` or repeating the user as password (`guest:guest@rabbitmq`) lower the
    severity by one step (`info` for a settings default): they still ship if nobody sets
    the variable.

    ## Why is this bad?
    A secret in the source is in every clone, fork, CI log and container image. With the
    JWT signing key anyone can mint a token for any user; a settings default is used
    silently in production whenever the environment variable is missing.

    ## Known problems
    Names decide what is a secret, so `KEY = "..."` used as an HMAC key is only found
    when it reaches `jwt.encode`/`jwt.decode`. Locals inside functions and dict literals
    (`{"password": "..."}`, OpenAPI examples, fake databases in tutorials) are not
    checked, except for DSNs with a password.

    ## Example
    ```python
    class Settings(BaseSettings):
        SECRET_KEY: str = "super-secret-change-me-123"
    ```

    ## Use instead
    ```python
    class Settings(BaseSettings):
        SECRET_KEY: str  # required: the app refuses to start without it
    ```
    or `SECRET_KEY: str = secrets.token_urlsafe(32)` for a per-process key in development.

    ## Fix safety
    No automatic fix. Rotate the secret: it is already public.
    """
    # A list, not a generator: this runs for every call and assignment of the project,
    # and almost all of them find nothing.
    found = (
        _secret_in_call(node, ctx)
        if isinstance(node, ast.Call)
        else list(_secret_assigned(node, ctx))
    )
    return found if found and not in_tests(ctx) else []


def _secret_assigned(node: ast.AST, ctx: FileContext) -> Iterator[Report]:
    if isinstance(node, ast.AnnAssign):
        targets: list[ast.expr] = [node.target]
        value = node.value
    elif isinstance(node, ast.Assign):
        targets = node.targets
        value = node.value
    else:
        return
    if value is None:
        return
    found = _assigned_literal(ctx, value)
    if found is None:
        return
    literal, source = found
    names = [
        t.id if isinstance(t, ast.Name) else t.attr
        for t in targets
        if isinstance(t, (ast.Name, ast.Attribute))
    ]
    dsn = _dsn_password(literal)
    if not names or (dsn is None and not any(_secret_name(n) for n in names)):
        return
    where, info = _scope_of_statement(ctx)
    kind = _class_kind(ctx, info) if info is not None else "plain"
    if kind == "enum":
        return
    overridable = source != "value" or (where == "class" and kind in ("settings", "model"))
    if dsn is not None:
        yield Report(
            node,
            f"`{names[0]}` holds a DSN with an inline password",
            severity=_severity(overridable, dsn[1]),
        )
        return
    if where == "function":
        return
    for name in names:
        if not _secret_name(name):
            continue
        if not secret_value(name, literal) and not (
            # `_DUMMY_SECRET = "dummy-secret"` is a stand-in until it becomes the fallback
            # of a secret: `SECRET_KEY = os.getenv("SECRET_KEY", _DUMMY_SECRET)`.
            where == "module"
            and secret_value(name, literal, stand_ins=True)
            and _used_as_secret(ctx, name)
        ):
            continue
        if source == "fallback":
            message = f"`{name}` falls back to a hard-coded secret"
        elif overridable:
            owner = f" of `{info.node.name}`" if info is not None else ""
            message = f"`{name}`{owner} has a hard-coded default secret"
        else:
            message = f"`{name}` is a hard-coded secret"
        yield Report(node, message, severity=_severity(overridable, _placeholder(literal)))
        return


def _assigned_literal(ctx: FileContext, value: ast.expr) -> tuple[str, str] | None:
    """The literal an assignment stores, seen through `Field(default=...)`, `SecretStr(...)`
    and `... or "fallback"`, and where it comes from: "value", "field" (a default) or
    "fallback"."""
    source = "value"
    if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or) and len(value.values) > 1:
        # `SECRET_KEY = os.getenv("SECRET_KEY") or "dev-key"`: a fallback, like a default.
        value = value.values[-1]
        source = "fallback"
    if isinstance(value, ast.Call) and call_name(value) == "Field":
        if ctx.resolve(value.func) not in FIELD_FUNCTIONS:
            return None
        default = argument(value, 0, "default")
        if default is None:
            return None
        value = default
        source = "field"
    if isinstance(value, ast.Call) and call_name(value) in ("SecretStr", "SecretBytes"):
        # `SecretStr("...")` masks the repr, not the source.
        if ctx.resolve(value.func) not in SECRET_TYPES or not value.args:
            return None
        value = value.args[0]
    literal = literal_string(value)
    return (literal, source) if literal is not None else None


def _secret_in_call(node: ast.Call, ctx: FileContext) -> list[Report]:
    # A list, not a generator: this runs for every call of the project.
    # 1. The key of `jwt.encode(payload, "literal")` / `jwt.decode(token, "literal")`.
    jc = jwt_call(ctx, node)
    if jc is not None and jc.op in ("encode", "decode"):
        found = _literal_jwt_key(ctx, argument(node, 1, "key"))
        if found is not None:
            what = f"the hard-coded key {found[0]}" if found[0] else "a hard-coded key"
            return [
                Report(
                    node,
                    f"`{display(node)}` {'signs' if jc.op == 'encode' else 'verifies'} with {what}",
                    severity=_severity(False, _placeholder(found[1])),
                )
            ]
    # The other checks look for a string literal among the arguments: most calls have none.
    if not _string_argument(node):
        return []
    # 2. Literal fallbacks of environment reads.
    env = _env_fallback(ctx, node)
    if env is not None:
        return env
    # 3. Keyword arguments named like secrets, and DSN literals in any argument.
    candidates = list(_literal_arguments(node))
    # A field default is judged with the field's name, at the assignment.
    if candidates and ctx.resolve(node.func) not in FIELD_FUNCTIONS:
        return candidates[:1]
    return []


def _string_argument(node: ast.Call) -> bool:
    """Is an argument a `str` or `bytes` literal (what `literal_string` reads)?"""
    for arg in node.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, (str, bytes)):
            return True
    for kw in node.keywords:
        value = kw.value
        if isinstance(value, ast.Constant) and isinstance(value.value, (str, bytes)):
            return True
    return False


def _literal_arguments(node: ast.Call) -> Iterator[Report]:
    for kw in node.keywords:
        if kw.arg is None or kw.arg in _DOC_KEYWORDS:
            continue
        literal = literal_string(kw.value)
        if literal is None:
            continue
        dsn = _dsn_password(literal)
        if dsn is not None:
            yield Report(
                kw.value,
                f"`{kw.arg}=` is a DSN with an inline password",
                severity=_severity(False, dsn[1]),
            )
            return
        if _secret_name(kw.arg) and secret_value(kw.arg, literal):
            yield Report(
                kw.value,
                f"`{kw.arg}=` is passed a hard-coded secret",
                severity=_severity(False, _placeholder(literal)),
            )
            return
    for arg in node.args:
        literal = literal_string(arg)
        dsn = _dsn_password(literal) if literal is not None else None
        if dsn is not None:
            yield Report(
                arg,
                f"`{display(node)}` is passed a DSN with an inline password",
                severity=_severity(False, dsn[1]),
            )
            return


def _literal_jwt_key(ctx: FileContext, expr: ast.expr | None) -> tuple[str, str] | None:
    if expr is None:
        return None
    literal = literal_string(expr)
    if literal is not None:
        return ("", literal) if literal.strip() else None
    # A constant whose name says "secret" is reported where it is assigned; one named
    # `KEY` or `SIGNING` would slip through, so report it here.
    if isinstance(expr, (ast.Name, ast.Attribute)):
        name = expr.id if isinstance(expr, ast.Name) else expr.attr
        if _secret_name(name):
            return None
        # A local is computed per call, too dynamic to judge: not a module constant.
        found = module_constant(ctx, expr)
        if found is not None:
            literal = literal_string(found[1])
            if literal is not None and literal.strip():
                return f"`{name}`", literal
    return None


def _env_fallback(ctx: FileContext, node: ast.Call) -> list[Report] | None:
    """`os.getenv("SECRET_KEY", "dev")` and friends. None when the call is not an env read."""
    callee = call_name(node) or ""
    if isinstance(node.func, ast.Name):
        if callee != "getenv" and not callee.lower().endswith("config"):
            return None
    elif callee not in ("getenv", "get", "setdefault", "config"):
        return None
    if not any(literal_string(a) for a in node.args[1:3]) and not any(
        kw.arg == "default" and literal_string(kw.value) for kw in node.keywords
    ):
        return None  # no literal fallback: nothing to report, skip the resolution
    name = ctx.resolve(node.func)
    default: ast.expr | None
    if name in _ENV_GETTERS:
        if name == "decouple.config":
            default = keyword(node, "default")
        else:
            default = argument(node, 1, "default")
    else:
        owner = infer_type(ctx.project, ctx.module, node.func, ctx.function())
        if owner not in _STARLETTE_CONFIG:
            return None
        default = argument(node, 2, "default")
    literal = literal_string(default)
    if literal is None:
        return []
    env_name = const_str(argument(node, 0, "key")) or ""
    target = assigned_name(ctx, node) or ""
    dsn = _dsn_password(literal)
    if dsn is not None:
        return [
            Report(
                node,
                f"the fallback of `{env_name or target}` is a DSN with an inline password",
                severity=_severity(True, dsn[1]),
            )
        ]
    for label in (env_name, target):
        if label and _secret_name(label) and secret_value(label, literal):
            return [
                Report(
                    node,
                    f"`{label}` falls back to a hard-coded secret when the variable is unset",
                    severity=_severity(True, _placeholder(literal)),
                )
            ]
    return []
