"""metas accounts: people, their grants and locale, password sign-in and sessions, and the directory."""
