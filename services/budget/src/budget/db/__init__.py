"""Database models and repositories."""
