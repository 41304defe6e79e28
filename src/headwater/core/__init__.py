"""Building blocks with no knowledge of any service: errors, time, identifiers."""
