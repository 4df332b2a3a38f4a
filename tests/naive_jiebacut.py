"""Slow, obviously-correct twins of the textmine.jiebacut kernels, written from jieba 0.42.1's text.

Strings and dicts only; no numpy, no tries.  ``freq`` is a ``{string: int}`` prefix dictionary as
jieba's ``gen_pfdict`` builds it (every prefix of a word present, at frequency 0 unless a word).
"""
import math
import re

MIN_FLOAT = -3.14e100
PREV_STATUS = {"B": "ES", "M": "MB", "S": "SE", "E": "BM"}


def naive_prefix_dict(entries):
    """``gen_pfdict`` over ``(word, freq)`` pairs: (freq dict, total)."""
    lfreq = {}
    total = 0
    for word, f in entries:
        lfreq[word] = f
        total += f
        for ch in range(len(word)):
            if word[:ch + 1] not in lfreq:
                lfreq[word[:ch + 1]] = 0
    return lfreq, total


def naive_route(sentence, freq, total):
    """jieba's ``get_DAG`` then ``calc``: lists ``values[0..N]`` and ``ends[0..N-1]``."""
    n = len(sentence)
    dag = {}
    for k in range(n):
        ends = [x for x in range(k, n)
                if all(sentence[k:j + 1] in freq for j in range(k, x + 1)) and freq[sentence[k:x + 1]]]
        dag[k] = ends or [k]
    logtotal = math.log(total)
    route = {n: (0, 0)}
    for idx in range(n - 1, -1, -1):
        route[idx] = max((math.log(freq.get(sentence[idx:x + 1]) or 1) - logtotal + route[x + 1][0], x)
                         for x in dag[idx])
    return [route[i][0] for i in range(n + 1)], [route[i][1] for i in range(n)]


def naive_viterbi(obs, start_p, trans_p, emit_p):
    """finalseg's Viterbi with dicts, keeping whole paths; returns the state string."""
    v = [{y: start_p[y] + emit_p[y].get(obs[0], MIN_FLOAT) for y in "BMES"}]
    path = {y: y for y in "BMES"}
    for t in range(1, len(obs)):
        v.append({})
        newpath = {}
        for y in "BMES":
            em = emit_p[y].get(obs[t], MIN_FLOAT)
            prob, state = max((v[t - 1][y0] + trans_p[y0].get(y, MIN_FLOAT) + em, y0)
                              for y0 in PREV_STATUS[y])
            v[t][y] = prob
            newpath[y] = path[state] + y
        path = newpath
    prob, state = max((v[-1][y], y) for y in "ES")
    return path[state]


def naive_finalseg(sentence, start_p, trans_p, emit_p):
    """finalseg.cut: Han runs by Viterbi (words end at E and S), the rest by regex split."""
    out = []
    for blk in re.split("([\u4E00-\u9FD5]+)", sentence):
        if re.match("[\u4E00-\u9FD5]", blk):
            states = naive_viterbi(blk, start_p, trans_p, emit_p)
            begin = nexti = 0
            for i, s in enumerate(states):
                if s == "B":
                    begin = i
                elif s == "E":
                    out.append(blk[begin:i + 1])
                    nexti = i + 1
                elif s == "S":
                    out.append(blk[i])
                    nexti = i + 1
            if nexti < len(blk):
                out.append(blk[nexti:])
        else:
            out.extend(x for x in re.split(r"([a-zA-Z0-9]+(?:\.\d+)?%?)", blk) if x)
    return out


def naive_cut(sentence, freq, total, hmm, start_p, trans_p, emit_p):
    """The whole of ``Tokenizer.cut`` (accurate mode) on a string."""
    out = []
    for blk in re.split("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)", sentence):
        if not blk:
            continue
        if re.match("[\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]", blk):
            _, ends = naive_route(blk, freq, total)
            words = []
            x = 0
            while x < len(blk):
                words.append(blk[x:ends[x] + 1])
                x = ends[x] + 1
            buf = ""
            for w in words + [None]:
                single = w is not None and len(w) == 1 and (hmm or re.match("[a-zA-Z0-9]", w))
                if single:
                    buf += w
                    continue
                if buf:
                    if not hmm or len(buf) == 1:
                        out.append(buf)
                    elif not freq.get(buf):
                        out.extend(naive_finalseg(buf, start_p, trans_p, emit_p))
                    else:
                        out.extend(buf)
                    buf = ""
                if w is not None:
                    out.append(w)
        else:
            for x in re.split("(\r\n|\\s)", blk):
                if re.match("(\r\n|\\s)", x):
                    out.append(x)
                else:
                    out.extend(x)
    return out
