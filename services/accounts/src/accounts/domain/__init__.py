"""Pure rules of accounts: names, locales, grants, password hashing, session lifetimes and sign-in throttling."""
