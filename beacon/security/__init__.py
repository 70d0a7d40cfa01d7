"""Security and privacy proofs that run with the test suite (see ``tests/``).

Nothing here runs in production: the package holds the API fuzzing, the authorization
matrix over every page and endpoint, and the anonymity test for tips.
"""
