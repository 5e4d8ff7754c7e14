"""Application layer of the budget service: guards, the transaction's work and auditing.

Routers (budget.api) parse, authorize, call one function here and shape the response; the domain stays pure
and the repositories (budget.db.repositories) only add, flush and query.
"""
