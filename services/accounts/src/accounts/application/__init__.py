"""Application layer of the accounts service: guards, the transaction's work and auditing."""
