"""Slow, obviously correct twins of every numba kernel (compared on random inputs in the tests)."""
