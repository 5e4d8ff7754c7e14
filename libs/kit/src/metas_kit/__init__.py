"""Cross-cutting kit shared by every metas service. Nothing domain-specific lives here."""
