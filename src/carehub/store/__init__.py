"""Storage: the lake layout, the metadata database and the query engines. The only package that
touches files and databases."""
