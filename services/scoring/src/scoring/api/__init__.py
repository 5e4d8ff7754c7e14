"""HTTP routers and request/response schemas."""
