"""Unit tests of FAA205's key-derivation cut-off and FAA204's thread hand-offs."""

from __future__ import annotations

import ast
from types import SimpleNamespace
from typing import cast

import pytest

from fastapi_architect.model.project import Module
from fastapi_architect.review.rules.async_io import _fast_key_derivation, _thread_nodes


def _call(source: str) -> ast.Call:
    node = ast.parse(source, mode="eval").body
    assert isinstance(node, ast.Call)
    return node


@pytest.mark.parametrize(
    "source",
    [
        'pbkdf2_hmac("sha256", s, b"salt", 2048, 32)',
        'pbkdf2_hmac("sha256", s, b"salt", iterations=9_999)',
        'pbkdf2_hmac("sha256", s, b"salt", 2048, None)',
        'pbkdf2_hmac("sha512", s, b"salt", 2048, dklen=128)',
        'pbkdf2_hmac(hash_name, s, b"salt", 2048)',
    ],
)
def test_few_literal_iterations_derive_a_key(source: str) -> None:
    assert _fast_key_derivation(_call(source), "hashlib.pbkdf2_hmac")


@pytest.mark.parametrize(
    "source",
    [
        'pbkdf2_hmac("sha256", s, b"salt", 10_000)',
        'pbkdf2_hmac("sha256", s, b"salt", 600_000)',
        'pbkdf2_hmac("sha256", s, b"salt", rounds)',
        'pbkdf2_hmac("sha256", s, b"salt", *rest)',
        'pbkdf2_hmac("sha256", s, b"salt")',
        'pbkdf2_hmac("sha256", s, b"salt", 9999, 1024)',
        'pbkdf2_hmac("sha1", s, b"salt", 2048, dklen=100)',
        'pbkdf2_hmac("sha256", s, b"salt", 2048, size)',
        'pbkdf2_hmac(hash_name, s, b"salt", 2048, 64)',
        'pbkdf2_hmac("sha256", s, b"salt", 2048, **options)',
    ],
)
def test_slow_or_unknown_counts_are_password_hashing(source: str) -> None:
    assert not _fast_key_derivation(_call(source), "hashlib.pbkdf2_hmac")


def test_only_pbkdf2_has_a_cut_off() -> None:
    assert not _fast_key_derivation(_call('scrypt(s, salt=b"x", n=2)'), "hashlib.scrypt")


_MODULE = cast(Module, SimpleNamespace(imports={"partial": "functools.partial"}))


@pytest.mark.parametrize(
    ("source", "in_thread"),
    [
        ("f", True),
        ("f.read", True),
        ("partial(f.read, 16)", True),
        ("partial(process, f)", True),
        ("(lambda: f.read())", True),
        ("(lambda: json.load(f))", True),
        ("(f, g)", True),
        ("f.read()", False),
        ("parse(f.read(16))", False),
        ("json.load(f)", False),
        ("list(f)", False),
        ("[line for line in f]", False),
        ("partial(process, json.load(f))", False),
        ("other.partial(process, f)", False),
    ],
)
def test_only_the_handle_itself_is_handed_over(source: str, in_thread: bool) -> None:
    arg = ast.parse(source, mode="eval").body
    handle = next(n for n in ast.walk(arg) if isinstance(n, ast.Name) and n.id == "f")
    assert (id(handle) in _thread_nodes(_MODULE, arg)) is in_thread
