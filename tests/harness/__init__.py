"""The test harness every suite shares (not shipped): identities (tokens, principals) and fresh databases."""
