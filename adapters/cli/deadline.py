"""`rectify deadline`: read a Chinese deadline expression (placeholder until the parser lands)."""
