"""Application layer of the execution service: guards, the transaction's work and auditing."""
