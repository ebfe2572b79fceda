"""BLEU: n-gram overlap between generated text and reference texts.

For each order k = 1..n, the modified precision p_k is the number of candidate
k-grams that also occur in a reference, where each k-gram is credited at most as
many times as it occurs in the single reference that contains it most often
(the "clipped" count), divided by the number of candidate k-grams. BLEU-n is the
geometric mean of p_1..p_n times a brevity penalty

    BP = 1 if c > r else exp(1 - r / c),

c = candidate length, r = the reference length closest to c (the shorter one on
a tie). Without smoothing, BLEU is 0 as soon as one p_k is 0.

Sentence BLEU scores one candidate; corpus BLEU adds the clipped counts, the
k-gram totals, c and r over all candidates before combining them, which is what
papers report for a test set.
"""
import math
from collections import Counter

from course_utils.checks import check_positive_int


def _ngrams(tokens, k):
    return Counter(tuple(tokens[i:i + k]) for i in range(len(tokens) - k + 1))


def _check_tokens(tokens, name):
    if isinstance(tokens, str) or not all(isinstance(t, str) for t in tokens):
        raise ValueError(f"{name} must be a list of token strings (split the sentence first), got {tokens!r}")
    return list(tokens)


def _sentence_stats(candidate, references, n):
    """Clipped matches and totals per order 1..n, candidate length, closest reference length."""
    candidate = _check_tokens(candidate, "candidate_tokens")
    if isinstance(references, str) or len(references) == 0:
        raise ValueError("reference_token_lists must be a non-empty list of token lists")
    references = [_check_tokens(ref, "each reference") for ref in references]
    matches, totals = [], []
    for k in range(1, n + 1):
        cand_counts = _ngrams(candidate, k)
        max_ref = Counter()
        for ref in references:
            max_ref |= _ngrams(ref, k)  # elementwise maximum of the counts
        matches.append(sum(min(count, max_ref[g]) for g, count in cand_counts.items()))
        totals.append(max(len(candidate) - k + 1, 0))
    c = len(candidate)
    r = min((abs(len(ref) - c), len(ref)) for ref in references)[1]
    return matches, totals, c, r


def _combine(matches, totals, c, r):
    if c == 0 or any(m == 0 for m in matches):
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals)) / len(matches)
    brevity = 1.0 if c > r else math.exp(1 - r / c)
    return brevity * math.exp(log_precision)


def bleu_score(candidate_tokens, reference_token_lists, n=4):
    """Sentence BLEU-n of one candidate against one or more references.

    candidate_tokens: list of str; reference_token_lists: list of lists of str;
    n: highest n-gram order (uniform weights 1/n over orders 1..n).
    Returns a float in [0, 1].
    """
    n = check_positive_int(n, "n")
    return _combine(*_sentence_stats(candidate_tokens, reference_token_lists, n))


def corpus_bleu(candidates, references, n=4):
    """Corpus BLEU-n: counts pooled over all (candidate, its references) pairs.

    candidates: list of token lists; references: list (same length) of lists of
    reference token lists. Returns a float in [0, 1].
    """
    n = check_positive_int(n, "n")
    if len(candidates) != len(references):
        raise ValueError(
            f"need one list of references per candidate, got {len(candidates)} candidates "
            f"and {len(references)} reference lists"
        )
    if not candidates:
        raise ValueError("corpus_bleu needs at least one candidate")
    matches, totals, c, r = [0] * n, [0] * n, 0, 0
    for cand, refs in zip(candidates, references):
        m, t, cl, rl = _sentence_stats(cand, refs, n)
        matches = [a + b for a, b in zip(matches, m)]
        totals = [a + b for a, b in zip(totals, t)]
        c += cl
        r += rl
    return _combine(matches, totals, c, r)
