"""The catalog of the SaaS of seed 001 (« Gérer votre abonnement »), from examples/."""

import json
from pathlib import Path

from subbill import Catalog

SEED_CATALOG_DATA = json.loads(
    (Path(__file__).parent.parent / "examples" / "catalogue_saas.json").read_text(encoding="utf-8")
)


def seed_catalog() -> Catalog:
    return Catalog.from_mapping(SEED_CATALOG_DATA)
