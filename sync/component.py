"""Sync as a component: the delivery tables, the workers' CLI, the delivery pages and API, and the
in-process worker of the embedded default."""

from __future__ import annotations

from pathlib import Path

from portal.components import Component

HERE = Path(__file__).resolve().parent

component = Component(
    name="sync",
    order=400,
    model_modules=("sync.delivery.models",),
    template_dir=HERE / "templates",
)
