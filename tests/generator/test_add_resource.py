"""`add resource` through its library API: what it plans and writes, the two registration
edits, the revision chain, the generated code's format, and every refusal (each writes
nothing: the project tree is compared byte for byte before and after)."""

from __future__ import annotations

import ast
import difflib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from fastapi_architect.generator.errors import GeneratorError
from fastapi_architect.generator.project import create_project, plan_project
from fastapi_architect.generator.registration import register_model, register_router
from fastapi_architect.generator.resource import add_resource, apply_plan, plan_resource

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
AUTHOR = ["name:str:max=100", "email:email:unique"]
BOOK = ["title:str:index", "price:decimal", "published:date:optional", "author:ref:author"]
# every type and option, a self-reference, references to a generated and a built-in model
EVERYTHING = [
    "label:str:max=1:unique",
    "notes:text:optional:max=50",
    "quantity:int:index",
    "amount:decimal:index,unique",
    "active:bool:index",
    "due_at:datetime:index:optional",
    "ship_on:date:unique",
    "token:uuid:unique",
    "contact:email:index:max=6",
    "customer:ref:user",
    "parent:ref:order_line:optional",
    "author:ref:author:unique:optional",
]


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_project(plan_project("shop", tmp_path_factory.mktemp("pristine")))


@pytest.fixture
def project(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "shop"))


def added_lines(before: bytes, after: bytes) -> list[str]:
    diff = difflib.ndiff(before.decode().splitlines(), after.decode().splitlines())
    assert not [line for line in diff if line.startswith("- ")]
    diff = difflib.ndiff(before.decode().splitlines(), after.decode().splitlines())
    return [line[2:] for line in diff if line.startswith("+ ")]


# ------------------------------------------------------------------ plan and apply


def test_dry_run_lists_the_files_and_writes_nothing(project: Path) -> None:
    before = tree(project)

    plan = add_resource(project, "order-line", ["quantity:int"], dry_run=True)

    assert tree(project) == before
    assert plan.describe() == [
        "create app/models/order_line.py",
        "create app/schemas/order_line.py",
        "create app/repositories/order_line.py",
        "create app/services/order_line.py",
        "create app/api/v1/order_lines.py",
        "create tests/test_order_lines.py",
        "create migrations/versions/0002_create_order_lines.py",
        "modify app/models/__init__.py",
        "modify app/api/v1/router.py",
    ]
    assert plan.files == [Path(line.split(" ", 1)[1]) for line in plan.describe()]


def test_apply_writes_exactly_the_plan(project: Path) -> None:
    before = tree(project)
    plan = plan_resource(project, "author", AUTHOR, now=NOW)

    written = apply_plan(plan)

    after = tree(project)
    assert written == plan.files
    changed = {name for name in after if before.get(name) != after[name]}
    assert changed == {path.as_posix() for path in plan.files}
    assert set(before) <= set(after)
    for change in plan.changes:
        assert after[change.path.as_posix()] == change.content.encode()


def test_the_registration_edits_are_exact(project: Path) -> None:
    before = tree(project)

    add_resource(project, "author", AUTHOR)
    add_resource(project, "book", BOOK)

    after = tree(project)
    router = "app/api/v1/router.py"
    models = "app/models/__init__.py"
    assert added_lines(before[router], after[router]) == [
        "from app.api.v1 import authors",
        "from app.api.v1 import books",
        "api_router.include_router(authors.router)",
        "api_router.include_router(books.router)",
    ]
    lines = after[router].decode().splitlines()
    includes = [line for line in lines if line.startswith("api_router.include_router")]
    assert includes[-2:] == [
        "api_router.include_router(authors.router)",
        "api_router.include_router(books.router)",
    ]
    assert added_lines(before[models], after[models]) == [
        "from app.models.author import Author",
        "from app.models.book import Book",
        '    "Author",',
        '    "Book",',
    ]
    (listing,) = [
        node.value
        for node in ast.parse(after[models]).body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__"
    ]
    exported = ast.literal_eval(listing)
    assert exported == sorted(exported, key=str.lower)


ROUTER = """\
\"\"\"Routers.\"\"\"

from fastapi import APIRouter

from app.api.v1 import auth
from app.api.v1 import users

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(
    auth.router,
)
api_router.include_router(users.router)  # last


@api_router.get("/ping")
def ping() -> str:
    return "pong"
"""


def test_register_router_inserts_after_the_last_include_and_keeps_the_rest() -> None:
    edited = register_router(ROUTER, "books")
    assert edited == ROUTER.replace(
        "from app.api.v1 import users\n",
        "from app.api.v1 import books\nfrom app.api.v1 import users\n",
    ).replace(
        "api_router.include_router(users.router)  # last\n",
        "api_router.include_router(users.router)  # last\napi_router.include_router(books.router)\n",
    )
    assert register_router(edited, "books") == edited  # idempotent
    assert register_router(edited, "zebras").splitlines()[7] == "from app.api.v1 import zebras"


def test_register_router_without_includes_or_imports() -> None:
    text = 'from fastapi import APIRouter\n\napi_router = APIRouter(prefix="/api/v1")\n'
    assert register_router(text, "books") == (
        "from fastapi import APIRouter\n"
        "from app.api.v1 import books\n"
        "\n"
        'api_router = APIRouter(prefix="/api/v1")\n'
        "api_router.include_router(books.router)\n"
    )


def test_register_router_keeps_crlf_line_endings() -> None:
    crlf = ROUTER.replace("\n", "\r\n")
    edited = register_router(crlf, "books")
    assert edited.replace("\r\n", "\n") == register_router(ROUTER, "books")
    assert "\n" not in edited.replace("\r\n", "")


def test_register_router_refuses_a_file_without_api_router() -> None:
    with pytest.raises(GeneratorError, match="no `api_router = APIRouter"):
        register_router("router = 1\n", "books")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            '__all__ = [\n    "Base",\n    "User",\n]\n',
            '__all__ = [\n    "Base",\n    "Book",\n    "User",\n]\n',
        ),
        (
            '__all__ = [\n    "Author",\n    "Base",\n]\n',
            '__all__ = [\n    "Author",\n    "Base",\n    "Book",\n]\n',
        ),
        (
            '__all__ = [\n    "Author",\n    "Base"\n]\n',
            '__all__ = [\n    "Author",\n    "Base",\n    "Book",\n]\n',
        ),
        ('__all__ = ["Base", "User"]\n', '__all__ = ["Base", "Book", "User"]\n'),
        ('__all__ = ["Base"]\n', '__all__ = ["Base", "Book"]\n'),
        ('__all__ = ("Base", "User")\n', '__all__ = ("Base", "Book", "User")\n'),
        ("__all__ = []\n", '__all__ = ["Book"]\n'),
    ],
)
def test_register_model_in_every_style_of_all(before: str, after: str) -> None:
    header = "from app.db.base import Base\nfrom app.models.user import User\n\n"
    edited = register_model(header + before, "book", "Book")
    expected_header = header.replace(
        "from app.models.user", "from app.models.book import Book\nfrom app.models.user"
    )
    assert edited == expected_header + after
    assert register_model(edited, "book", "Book") == edited  # idempotent


def test_register_model_refuses_a_file_without_all() -> None:
    with pytest.raises(GeneratorError, match="no literal `__all__` list"):
        register_model("from app.models.user import User\n", "book", "Book")


# ------------------------------------------------------------------ revisions


def revision_of(project: Path, name: str) -> tuple[object, object]:
    module = ast.parse((project / "migrations/versions" / name).read_text())
    values = {
        ast.unparse(node.targets[0]): ast.literal_eval(node.value)
        for node in module.body
        if isinstance(node, ast.Assign)
    }
    return values["revision"], values["down_revision"]


def test_revisions_chain_after_the_single_head(project: Path) -> None:
    first = add_resource(project, "author", AUTHOR)
    second = add_resource(project, "book", BOOK)

    assert (first.revision, first.down_revision) == ("0002_create_authors", "0001_initial")
    assert (second.revision, second.down_revision) == ("0003_create_books", "0002_create_authors")
    assert revision_of(project, "0002_create_authors.py") == (first.revision, "0001_initial")
    assert revision_of(project, "0003_create_books.py") == (
        "0003_create_books",
        "0002_create_authors",
    )
    text = (project / "migrations/versions/0003_create_books.py").read_text()
    assert "Revises: 0002_create_authors\n" in text


def test_a_revision_id_fits_alembic_version_num(project: Path) -> None:
    plan = plan_resource(project, "abcdefghij_klmnopqrst_uvwxy", ["x:int"])
    assert plan.revision == "0002_create_abcdefghij_klmnopqrs"
    assert len(plan.revision) <= 32


def test_the_first_revision_of_an_empty_history(project: Path) -> None:
    (project / "migrations/versions/0001_initial.py").unlink()
    # the users table now comes from the model alone, which is enough for the check
    plan = plan_resource(project, "author", AUTHOR)
    assert (plan.revision, plan.down_revision) == ("0001_create_authors", None)
    assert "down_revision = None\n" in plan.changes[6].content


def test_non_numeric_revision_ids_count_the_revisions(project: Path) -> None:
    versions = project / "migrations/versions"
    text = (versions / "0001_initial.py").read_text()
    (versions / "0001_initial.py").unlink()
    (versions / "ae1027a6acf.py").write_text(text.replace('"0001_initial"', '"ae1027a6acf"'))
    plan = plan_resource(project, "author", AUTHOR)
    assert (plan.revision, plan.down_revision) == ("0002_create_authors", "ae1027a6acf")


def test_merge_revisions_are_followed(project: Path) -> None:
    versions = project / "migrations/versions"
    for name, down in [("0002_a", '"0001_initial"'), ("0003_b", '"0001_initial"')]:
        (versions / f"{name}.py").write_text(f'revision = "{name}"\ndown_revision = {down}\n')
    (versions / "0004_merge.py").write_text(
        'revision = "0004_merge"\ndown_revision: tuple[str, ...] = ("0002_a", "0003_b")\n'
    )
    plan = plan_resource(project, "author", AUTHOR)
    assert (plan.revision, plan.down_revision) == ("0005_create_authors", "0004_merge")


# ------------------------------------------------------------------ refusals


def _several_heads(project: Path) -> None:
    (project / "migrations/versions/0002_x.py").write_text(
        'revision = "0002_x"\ndown_revision = "0001_initial"\n'
    )
    (project / "migrations/versions/0002_y.py").write_text(
        'revision = "0002_y"\ndown_revision = "0001_initial"\n'
    )


def _dynamic_revision(project: Path) -> None:
    (project / "migrations/versions/0002_x.py").write_text(
        'import os\nrevision = os.environ["REV"]\ndown_revision = "0001_initial"\n'
    )


def _table_in_a_migration_only(project: Path) -> None:
    (project / "migrations/versions/0002_x.py").write_text(
        'from alembic import op\nrevision = "0002_x"\ndown_revision = "0001_initial"\n\n'
        'def upgrade() -> None:\n    op.create_table("authors")\n'
    )


def _prefix_taken(project: Path) -> None:
    (project / "app/api/v1/writers.py").write_text(
        'from fastapi import APIRouter\n\nrouter = APIRouter(prefix="/authors")\n'
    )


def _remove(relative: str) -> Callable[[Path], None]:
    def remove(project: Path) -> None:
        target = project / relative
        shutil.rmtree(target) if target.is_dir() else target.unlink()

    return remove


def _replace(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def replace(project: Path) -> None:
        target = project / relative
        text = target.read_text()
        assert old in text
        target.write_text(text.replace(old, new))

    return replace


def _nothing(project: Path) -> None:
    pass


REFUSALS = [
    ("product", ["name:str"], _nothing, "resource 'product' already exists: app/models/product.py"),
    ("Product", ["name:str"], _nothing, "resource 'product' already exists"),
    ("user", ["name:str"], _nothing, "resource 'user' already exists"),
    ("author", ["name:str"], _table_in_a_migration_only, "table 'authors' is defined in"),
    ("author", ["name:str"], _prefix_taken, "the route prefix '/authors' is used in"),
    (
        "author",
        ["name:str"],
        _replace(
            "app/models/__init__.py",
            "from app.models.user import User\n",
            "from app.models.user import User\nfrom app.models.writer import Author\n",
        ),
        "resource 'author' already exists: Author is imported in app/models/__init__.py",
    ),
    ("book", BOOK, _nothing, "resource 'author' does not exist in this project"),
    ("book", ["title:str", "bogus:money"], _nothing, "invalid field spec 'bogus:money'"),
    ("book", [], _nothing, "give at least one field"),
    ("order--line", ["x:int"], _nothing, "invalid resource name 'order--line'"),
    ("service", ["x:int"], _nothing, "resource name 'service' is reserved"),
    ("request", ["x:int"], _nothing, "resource name 'request' is reserved"),
    ("category", ["parent:ref:category"], _nothing, "a reference to the resource itself must"),
    (
        "abcdefghij_klmnopqrst_uvwxyz",
        ["field_name_that_is_long_enough_x:str:index"],
        _nothing,
        "would be longer than 63 characters",
    ),
    (
        "token",
        ["x:ref:refresh_token"],
        _replace(
            "app/models/refresh_token.py",
            '__tablename__ = "refresh_tokens"',
            '__tablename__ = "refresh_" + "tokens"',
        ),
        "RefreshToken (app/models/refresh_token.py) has no literal __tablename__",
    ),
    ("author", AUTHOR, _several_heads, "has several heads: 0002_x"),
    ("author", AUTHOR, _dynamic_revision, "no literal `revision` and `down_revision`"),
    ("author", AUTHOR, _remove("app/api/v1/router.py"), "app/api/v1/router.py is missing"),
    ("author", AUTHOR, _remove("app/models/__init__.py"), "app/models/__init__.py is missing"),
    ("author", AUTHOR, _remove("migrations/versions"), "migrations/versions/ is missing"),
    ("author", AUTHOR, _remove("app/api/deps.py"), "app/api/deps.py is missing"),
    (
        "author",
        AUTHOR,
        _replace("app/api/v1/router.py", "api_router = APIRouter", "other_router = APIRouter"),
        "app/api/v1/router.py does not define api_router",
    ),
    (
        "author",
        AUTHOR,
        _replace("app/models/__init__.py", "__all__ = [", "__exported__ = ["),
        "app/models/__init__.py does not define __all__",
    ),
    (
        "author",
        ["name:str", "born_at:datetime"],
        _replace("app/db/base.py", "class UTCDateTime(", "class UtcDateTime("),
        "app/db/base.py does not define UTCDateTime",
    ),
    ("author", AUTHOR, _replace("app/api/v1/router.py", "from", "from from"), "cannot read"),
]


@pytest.mark.parametrize(
    ("name", "specs", "arrange", "message"),
    REFUSALS,
    ids=[f"{i}-{r[0]}-{r[2].__name__}" for i, r in enumerate(REFUSALS)],
)
def test_refusals_write_nothing(
    project: Path, name: str, specs: list[str], arrange: Callable[[Path], None], message: str
) -> None:
    arrange(project)
    before = tree(project)

    with pytest.raises(GeneratorError) as caught:
        add_resource(project, name, specs)

    assert tree(project) == before
    assert message in str(caught.value)


def test_a_second_add_of_the_same_resource_is_refused(project: Path) -> None:
    add_resource(project, "author", AUTHOR)
    before = tree(project)
    for spelling in ("author", "Author"):
        with pytest.raises(GeneratorError, match="resource 'author' already exists"):
            add_resource(project, spelling, AUTHOR)
    assert tree(project) == before


def test_a_reference_to_a_model_without_an_integer_id_is_refused(project: Path) -> None:
    (project / "app/models/tag.py").write_text(
        "from sqlalchemy.orm import Mapped, mapped_column\n\nfrom app.db.base import Base\n\n\n"
        "class Tag(Base):\n"
        '    __tablename__ = "tags"\n\n'
        "    id: Mapped[str] = mapped_column(primary_key=True)\n"
    )
    before = tree(project)
    with pytest.raises(
        GeneratorError, match=re.escape("Tag (app/models/tag.py) has no integer `id`")
    ):
        add_resource(project, "book", ["tag:ref:tag"])
    assert tree(project) == before


def test_a_reference_to_a_model_missing_from_models_init_is_refused(project: Path) -> None:
    add_resource(project, "author", AUTHOR)
    init = project / "app/models/__init__.py"
    init.write_text(init.read_text().replace("from app.models.author import Author\n", ""))
    before = tree(project)
    with pytest.raises(
        GeneratorError, match=re.escape("is not imported in app/models/__init__.py")
    ):
        add_resource(project, "book", BOOK)
    assert tree(project) == before


def test_a_stale_plan_writes_nothing(project: Path) -> None:
    plan = plan_resource(project, "author", AUTHOR)
    router = project / "app/api/v1/router.py"
    router.write_text(router.read_text() + "# edited meanwhile\n")
    before = tree(project)

    with pytest.raises(
        GeneratorError, match=re.escape("app/api/v1/router.py changed since the plan")
    ):
        apply_plan(plan)

    assert tree(project) == before


def test_a_file_that_appeared_since_the_plan_writes_nothing(project: Path) -> None:
    plan = plan_resource(project, "author", AUTHOR)
    (project / "tests/test_authors.py").write_text("# mine\n")
    before = tree(project)
    with pytest.raises(
        GeneratorError, match=re.escape("tests/test_authors.py appeared since the plan")
    ):
        apply_plan(plan)
    assert tree(project) == before


def test_a_not_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GeneratorError, match="is not a directory"):
        add_resource(tmp_path / "missing", "author", AUTHOR)


# ------------------------------------------------------------------ generated code


def ruff(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--config", str(project / "pyproject.toml"), "."],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "resources",
    [
        [
            ("author", AUTHOR),
            ("book", BOOK),
            ("OrderLine", EVERYTHING),
            ("tag", ["x:int:optional"]),
        ],
        [
            (
                "abcdefghij-klmnopqrst-uvwxyz",  # 30 characters, the longest resource name
                [
                    "an_extremely_long_field_namex:str:index:max=10485760",
                    "another_long_field_name_forxy:decimal:unique",
                    "third_long_field_name_forxyzw:datetime:index",
                    "fourth_long_email_field_namex:email:unique:optional",
                    "some_ref:ref:user:optional",
                ],
            ),
            (
                "lt",
                [
                    "a_reference_fi:ref:abcdefghij_klmnopqrst_uvwxyz:unique",
                    "x:email:unique",
                    "another_ref_x:ref:abcdefghij_klmnopqrst_uvwxyz:optional",
                ],
            ),
            (
                "abc_defghi_jklmno",
                [  # 40 characters, the longest field name
                    "abcdefghij_klmnopqrst_uvwxyz_abcdefghijk:str:index",
                    "bbcdefghij_klmnopqrst_uvwxyz_abcdefghijk:int:optional:index",
                    "user_public:str",  # its type alias would clash with an import
                    "field:str:index",
                ],
            ),
        ],
    ],
    ids=["every-type", "longest-names"],
)
def test_generated_code_is_ruff_clean_and_formatted(
    project: Path, resources: list[tuple[str, list[str]]]
) -> None:
    for name, specs in resources:
        add_resource(project, name, specs)
    check, formatted = ruff(project, "check"), ruff(project, "format", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_generated_modules_read_well(project: Path) -> None:
    add_resource(project, "author", AUTHOR)
    plan = add_resource(project, "book", BOOK)
    model = (project / "app/models/book.py").read_text()
    assert 'author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), index=True)' in model
    assert "published: Mapped[date | None] = mapped_column(Date)" in model
    schemas = (project / "app/schemas/book.py").read_text()
    assert "    author_id: int\n" in schemas.split("class BookRead")[1]
    migration = (project / "migrations/versions/0003_create_books.py").read_text()
    assert 'name=op.f("fk_books_author_id_authors")' in migration
    assert 'op.create_index(op.f("ix_books_author_id"), "books", ["author_id"])' in migration
    assert plan.name.class_name == "Book"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="generated projects need Python 3.11+")
def test_the_generated_suite_passes(project: Path) -> None:
    """The new resources' own tests and the migration check, on SQLite (the full suite,
    on PostgreSQL too, is the end-to-end tests' job)."""
    add_resource(project, "author", AUTHOR)
    add_resource(project, "OrderLine", EVERYTHING)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environment.pop("TEST_DATABASE_URL", None)
    completed = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
            "tests/test_authors.py", "tests/test_order_lines.py", "tests/test_migrations.py",
        ],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-6000:]
