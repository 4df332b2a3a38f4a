"""textmine: mine large raw text corpora without annotation.

The package is import-light on purpose: ``textmine --help`` must not import numba. The Python
API of :mod:`textmine.api` is reached lazily from here::

    import textmine as tm
    tm.count("corpus/", tokenizer="ngram", n=2, top=10)
    lexicon = tm.discover_words("corpus/")
    tm.Segmenter(lexicon.words, lexicon.counts).cut("今天天气不错")
    modules, result = tm.cluster(networkx_graph)
    tm.hsic_test(x, y)
    tm.JoSE(dim=100).fit(documents)

The algorithm modules (``textmine.count``, ``textmine.hsic`` ...) stay importable directly.
"""

__version__ = "0.1.0"

_API = ("count", "discover_words", "Segmenter", "load_lexicon", "cluster", "hsic_test", "JoSE")
__all__ = ["__version__", *_API]


def __getattr__(name):
    if name in _API:
        from textmine import api

        return getattr(api, name)
    raise AttributeError(f"module 'textmine' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_API))
