"""Reference data the extractors link to: the gazetteer of administrative divisions."""
