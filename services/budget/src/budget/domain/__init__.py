"""Pure domain logic: no HTTP, no SQL."""
