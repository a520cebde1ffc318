"""The catalog of the SaaS of seed 001 (« Gérer votre abonnement »), for tests and examples."""

from subbill import Catalog

SEED_CATALOG_DATA = {
    "currency": "EUR",
    "plans": [
        {
            "code": "essentiel",
            "name": "Essentiel",
            "rank": 1,
            "prices": {"monthly": "29.00", "annual": "290.00"},
            "limits": {"clients": 100, "documents": 500, "commandes": 200},
        },
        {
            "code": "pro",
            "name": "Pro",
            "rank": 2,
            "prices": {"monthly": "59.00", "annual": "590.00"},
            "limits": {"clients": 1000, "documents": 5000, "commandes": 2000},
            "modules": ["rapports"],
        },
        {
            "code": "business",
            "name": "Business",
            "rank": 3,
            "prices": {"monthly": "119.00", "annual": "1190.00"},
            "limits": {"clients": None, "documents": 50000, "commandes": None},
            "modules": ["rapports"],
        },
    ],
    "modules": [
        {"code": "rapports", "name": "Rapports avancés", "plans": ["pro", "business"]},
        {
            "code": "stock",
            "name": "Stock",
            "prices": {"monthly": "9.00", "annual": "90.00"},
            "plans": ["pro", "business"],
        },
        {
            "code": "multidepot",
            "name": "Multi-dépôts",
            "prices": {"monthly": "15.00"},
            "requires": ["multisoc"],
        },
        {"code": "crm", "name": "CRM", "prices": {"monthly": "5.00", "annual": "50.00"}},
        {"code": "agenda", "name": "Agenda"},
    ],
    "addons": [
        {
            "code": "multisoc",
            "name": "Multi-sociétés",
            "prices": {"monthly": "20.00", "annual": "200.00"},
        },
    ],
    "policy": {
        "upgrade": "immediate",
        "downgrade": "period_end",
        "module_activation": "immediate",
        "module_deactivation": "period_end",
    },
}


def seed_catalog() -> Catalog:
    return Catalog.from_mapping(SEED_CATALOG_DATA)
