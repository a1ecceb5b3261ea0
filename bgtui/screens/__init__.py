"""bgtui screens, one file per area (module types add theirs under their own name)."""
