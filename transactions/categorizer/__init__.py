"""Transaction categorisation: Plaid PFC v2 taxonomy, rules, per-user corrections and a model.

Plain modules that take and return plain data; ``transactions/service.py`` wires them to RPC.
See docs/categorizer.md.
"""
