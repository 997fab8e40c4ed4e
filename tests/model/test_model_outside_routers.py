"""Routers and apps of classes from outside the project (cadwyn's `VersionedAPIRouter`
and `Cadwyn`, fastapi-utils' `InferringRouter`): the model cannot read their bases, so
it goes by their names and by how they are used."""

from __future__ import annotations

from collections.abc import Callable

from fastapi_architect.model.build import AppModel

Rows = Callable[[str], list[dict[str, object]]]
Models = Callable[[str], AppModel]


def test_outside_routers_are_routed_under_the_app_that_includes_them(rows_of: Rows) -> None:
    rows = rows_of("outside_routers")
    assert sorted((r["method"], r["path"], r["name"], r["tags"]) for r in rows) == [
        ("GET", "/execution/reports/daily/{day}", "get_daily_report", ["Reports"]),
        ("GET", "/execution/runs/{run_id}", "get_run", ["Runs"]),
        ("POST", "/execution/jobs/", "create_job", ["Jobs"]),
    ]


def test_a_versioned_api_router_carries_its_dependencies(rows_of: Rows) -> None:
    auth = {r["name"]: r["auth"] for r in rows_of("outside_routers")}
    assert auth["get_run"] == ["require_token"]
    assert auth["create_job"] == ["require_token"]
    assert auth["get_daily_report"] is None


def test_kinds_of_outside_classes(model_of: Models) -> None:
    routers = model_of("outside_routers").routers
    # `class VersionedApp(Cadwyn)`: cadwyn's app is a FastAPI app.
    assert routers["svc.app.create_execution_app.app"].kind == "app"
    assert routers["svc.routes.authenticated_router"].kind == "router"
    # `*Router` classes confirmed by `include_router`, the inner one through the outer one.
    assert routers["svc.routes.jobs.router"].kind == "router"
    assert routers["svc.routes.reports.reports_router"].kind == "router"
    assert routers["svc.routes.reports.daily_router"].kind == "router"


def test_other_frameworks_routers_are_not_routers(model_of: Models) -> None:
    model = model_of("outside_routers")
    # aiogram's router included by its `Dispatcher`, Django Ninja's added to a `NinjaAPI`,
    # Starlette's (plain Starlette routes) even when a FastAPI app includes it.
    for name in ("telegram_router", "ninja_router", "plain_starlette"):
        assert f"svc.bots.{name}" not in model.routers
    assert not [r for r in model.routes if r.module.name == "svc.bots"]
