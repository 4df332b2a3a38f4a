"""JoSE: frequent words must not become each other's nearest neighbours (bench/RESULTS.md "embed",
"Frequent words as neighbours").

With flat hinges on the negative terms, a word drawn as a negative more often than its co-occurrences
pull it (a frequent word whose associations are mild) is pushed until its cosine with every context
sits at the negative margin; all such words end at the same place whatever their contexts, so the
most frequent words are each other's neighbours. The smoothed push (``neg_smooth``; by default
``freq_smooth`` for the sub-sampled words alone) lets each pair settle by how often it co-occurs.
"""
import json

import numpy as np
import pytest

from conftest import JIT_DISABLED
from textmine import jose
from textmine.errors import TextmineError

pytestmark = [pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning"),
              pytest.mark.skipif(JIT_DISABLED, reason="too slow without the JIT")]

TOP = 20


def zipf_topic_docs(seed=0, vocab=600, topics=10, boost=4.0, n_docs=300, length=100):
    """Word ``wi`` has Zipf weight ``1 / (i + 1)`` and topic ``i % topics``; a document of topic ``t``
    draws its words from the weights times ``1 + boost`` for topic ``t``'s words. Every word has the same
    association with its topic, so a frequent word's nearest neighbours should be words of its topic."""
    rng = np.random.default_rng(seed)
    topic = np.arange(vocab) % topics
    p = (1.0 / np.arange(1, vocab + 1))[None, :] * (1.0 + boost * (topic[None, :] == np.arange(topics)[:, None]))
    p /= p.sum(axis=1, keepdims=True)
    docs = [" ".join(f"w{i}" for i in rng.choice(vocab, length, p=p[d % topics])) for d in range(n_docs)]
    return docs, topic


def neighbour_shares(model, topic, k=5):
    """For the TOP most frequent words: the mean share of their k nearest neighbours (cosine) that are
    (own topic, among the TOP most frequent words)."""
    x = model.word_vectors_ / np.linalg.norm(model.word_vectors_, axis=1, keepdims=True)
    ids = np.array([int(w[1:]) for w in model.words_])
    row = {w: i for i, w in enumerate(model.words_)}
    own = club = 0.0
    for r in range(TOP):
        i = row[f"w{r}"]
        s = x @ x[i]
        s[i] = -2.0
        nn = ids[np.argsort(-s)[:k]]
        own += np.mean(topic[nn] == topic[r]) / TOP
        club += np.mean(nn < TOP) / TOP
    return own, club


@pytest.fixture(scope="module")
def shares():
    """(own-topic share, top-word share) of the hinge push, of the smoothed push (κ = 10) for every word and
    of the default (κ = 10 for the sub-sampled words alone), on one corpus."""
    docs, topic = zipf_topic_docs()
    settings = (dict(neg_smooth=0.0, freq_smooth=0.0), dict(neg_smooth=10.0, freq_smooth=0.0), {})
    return [neighbour_shares(jose.JoSE(dim=100, n_iter=10, n_jobs=1, random_state=1, **kw).fit(docs), topic)
            for kw in settings]


def test_smoothed_push_keeps_frequent_words_with_their_topic(shares):
    own, club = shares[1]
    assert own >= 0.5 and club <= 0.5, (own, club)  # 10 topics: chance own-topic share is 0.1


def test_default_smooths_the_sub_sampled_words_and_keeps_them_with_their_topic(shares):
    (hinge_own, hinge_club), _, (own, club) = shares
    assert own >= 0.5 and club <= 0.5, (own, club)
    assert own >= hinge_own + 0.3 and club <= hinge_club - 0.3, (hinge_own, hinge_club, own, club)


def test_push_smoothing_picks_the_sub_sampled_words():
    counts = np.array([100000, 50000, 8000, 5000, 400, 100, 5])  # 163,505 tokens: sample 1e-3 keeps all below ~428
    keep = jose.keep_probabilities(counts, 1e-3)
    k = jose.JoSE(sample=1e-3).push_smoothing(counts)
    assert np.array_equal(k, np.where(keep < 1, jose.FREQ_SMOOTH, 0.0)) and list(k > 0) == [True] * 4 + [False] * 3
    assert np.array_equal(jose.JoSE(neg_smooth=3.0, freq_smooth=0.0).push_smoothing(counts), np.full(7, 3.0))
    both = jose.JoSE(neg_smooth=3.0, freq_smooth=7.0).push_smoothing(counts)
    assert np.array_equal(both, np.where(keep < 1, 7.0, 3.0))
    assert not jose.JoSE(sample=0.0).push_smoothing(counts).any()  # no sub-sampling: no word is thinned


def test_hinge_push_gathers_frequent_words(shares):
    # the defect the smoothed push removes, kept as a check that the corpus above shows it
    (hinge_own, hinge_club), (smooth_own, smooth_club), _ = shares
    assert hinge_club >= 0.8 and smooth_club <= hinge_club - 0.3, (hinge_club, smooth_club)
    assert smooth_own >= hinge_own + 0.3, (hinge_own, smooth_own)


def test_neg_smooth_is_checked_saved_and_defaults_to_the_hinge_for_old_models(tmp_path):
    with pytest.raises(TextmineError, match="neg_smooth"):
        jose.JoSE(neg_smooth=-1.0).fit(["a b c"])
    docs = ["a b c d e f", "b c d e f a"] * 5
    m = jose.JoSE(dim=4, n_iter=1, min_count=1, neg_smooth=7.0, freq_smooth=3.0).fit(docs)
    path = tmp_path / "m.npz"
    m.save(str(path))
    loaded = jose.JoSE.load(str(path))
    assert (loaded.neg_smooth, loaded.freq_smooth) == (7.0, 3.0)
    side = jose.sidecar_path(str(path))
    with open(side, encoding="utf-8") as fh:
        meta = json.load(fh)
    del meta["params"]["neg_smooth"], meta["params"]["freq_smooth"]  # a model saved before the parameters existed
    with open(side, "w", encoding="utf-8") as fh:
        json.dump(meta, fh)
    loaded = jose.JoSE.load(str(path))
    assert (loaded.neg_smooth, loaded.freq_smooth) == (0.0, 0.0)  # such a model was trained with the hinge
    with pytest.raises(TextmineError, match="freq_smooth"):
        jose.JoSE(freq_smooth=float("nan")).fit(["a b c"])


def test_cli_neg_smooth(tmp_path):
    from click.testing import CliRunner

    from textmine.cli import cli

    src = tmp_path / "c.txt"
    src.write_text("\n".join(zipf_topic_docs(n_docs=40, length=40)[0]) + "\n", encoding="utf-8")
    outs = []
    for k, f in (("0", "0"), ("10", "0"), ("0", str(jose.FREQ_SMOOTH))):
        out = tmp_path / f"w{k}-{f}.vec"
        r = CliRunner().invoke(cli, ["embed", str(src), "-o", str(out), "--dim", "8", "--iter", "2", "-j", "1",
                                     "--seed", "3", "--sample", "0.01", "--neg-smooth", k, "--freq-smooth", f, "-q"])
        assert r.exit_code == 0, r.output
        outs.append(out.read_text(encoding="utf-8"))
    default = tmp_path / "w.vec"
    r = CliRunner().invoke(cli, ["embed", str(src), "-o", str(default), "--dim", "8", "--iter", "2", "-j", "1",
                                 "--seed", "3", "--sample", "0.01", "-q"])  # the ten commonest words are thinned
    # the default: the hinge, smoothed for the sub-sampled words (the CLI's default is the library's)
    assert r.exit_code == 0 and default.read_text(encoding="utf-8") == outs[2]
    assert len({*outs}) == 3 and outs[1].split("\n", 1)[0] == outs[0].split("\n", 1)[0]
    r = CliRunner().invoke(cli, ["embed", str(src), "-o", str(tmp_path / "x.vec"), "--neg-smooth", "-1"])
    assert r.exit_code == 2 and "--neg-smooth" in r.output
