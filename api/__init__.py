"""The web API and map server: a thin FastAPI layer over the nongthon library."""
