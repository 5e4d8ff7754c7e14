"""metas planning service: Plans, versions, units, objectives, indicators, products and initiatives."""
