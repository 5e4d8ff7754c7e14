"""metas gateway: one entry point that authenticates callers and routes /api/<service>/* to the services."""
