"""metas execution service: Monthly execution registrations, deadlines, certification and compliance."""
