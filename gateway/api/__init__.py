"""HTTP route modules of the gateway (one ApiBlueprint per area)."""
