"""Developer tooling: run the whole cluster locally, mint tokens. Used by `make run` and the integration tests."""
