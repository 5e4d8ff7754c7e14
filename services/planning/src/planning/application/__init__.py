"""Application layer of the planning service: guards, the transaction's work and auditing.

Routers (planning.api) parse, authorize, call one function here and shape the response; the domain stays pure
and the repositories (planning.db.repositories) only add, flush and query.
"""
