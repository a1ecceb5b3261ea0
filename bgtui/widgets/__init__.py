"""bgtui widgets, grouped by what they are for."""
