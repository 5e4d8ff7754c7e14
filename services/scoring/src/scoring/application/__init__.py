"""The scoring service's application layer: guards, the transaction's work, auditing and metrics.

Routers in `scoring.api` parse, authorize, call one function here and shape the response.
"""
