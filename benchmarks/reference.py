"""The floor the HTTP benchmark measures the portal against: one indexed SELECT through SQLAlchemy per request,
on the portal's own engine settings, served as `portal serve` serves (see benchmarks.http)."""

import os

from litestar import Litestar, get
from sqlalchemy import text

from portal.config import Settings
from portal.db.engine import WRITES, create_engine


def create_app() -> Litestar:
    settings = Settings.from_env({}, database_url=os.environ["PORTAL_DATABASE_URL"], secret_key="-" * 40)
    engine, slug = create_engine(settings), os.environ["BENCH_SLUG"]
    query = text("SELECT name FROM tenants WHERE slug = :slug")

    @get("/reference")
    async def reference() -> dict[str, str]:
        async with engine.connect() as conn:
            conn = await conn.execution_options(**{WRITES: False})
            return {"name": (await conn.execute(query, {"slug": slug})).scalar_one()}

    return Litestar([reference])
