"""Typed clients of the metas services, for the other services (one per upstream; no service imports another)."""
