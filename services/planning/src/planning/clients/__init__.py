"""HTTP clients of the services this one calls."""
