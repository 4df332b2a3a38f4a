"""textmine: mine large raw text corpora without annotation.

The package is import-light on purpose: ``textmine --help`` must not import numba.
Import the algorithm modules (``textmine.count``, ``textmine.hsic`` ...) directly.
"""

__version__ = "0.1.0"
