"""Event payload schemas shared by producers and consumers (one module per source service)."""
