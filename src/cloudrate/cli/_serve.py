"""The ``cloudrate serve`` command: the HTTP service (:mod:`cloudrate.server`) alone,
with uvicorn. Starlette and uvicorn are imported only when the command runs."""

from __future__ import annotations

from pathlib import Path

import click

from cloudrate.billing import open_store
from cloudrate.exceptions import MissingExtraError
from cloudrate.plans import load_plan

from ._options import InputPath

__all__ = ["serve_command"]


@click.command(name="serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--store",
    "store_location",
    help="Document store: an SQLite file (billing.db) or a postgresql:// URL; without "
    "it the billing, document, payment and event endpoints answer 404.",
)
@click.option(
    "--plan",
    "plan_paths",
    multiple=True,
    type=InputPath(),
    help="A plan (YAML) requests may name with plan_name; repeat for several.",
)
@click.option(
    "--max-body",
    default=8 * 2**20,
    show_default=True,
    type=click.IntRange(1),
    help="Largest request body in bytes (413 above).",
)
def serve_command(
    host: str, port: int, store_location: str | None, plan_paths: tuple[Path, ...], max_body: int
) -> None:
    """Run the HTTP service (docs/server.md): POST /v1/rate and the rest, described at
    /v1/openapi.json. Every request is tenant "default"; mount cloudrate.server.create_app
    in your own app for a tenant hook."""
    try:
        import uvicorn

        from cloudrate.server import create_app
    except ImportError as exc:
        raise MissingExtraError("cloudrate serve", "starlette and uvicorn", "server") from exc
    plans = {plan.name: plan for plan in (load_plan(path) for path in plan_paths)}
    store = open_store(store_location) if store_location else None
    try:
        app = create_app(store=store, plans=plans, max_body=max_body)
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        if store is not None:
            store.close()
