"""metas budget service: PRR investment structure, economic classification, amounts, VAT split and reconciliation."""
