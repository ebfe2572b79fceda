import math

import pytest

from course_utils.bleu import bleu_score, corpus_bleu


def test_identical_sentence_scores_one():
    s = "a big red circle left of a small blue square".split()
    for n in (1, 2, 3, 4):
        assert bleu_score(s, [s], n=n) == pytest.approx(1.0)


def test_clipped_unigram_precision():
    # "the" x 7 against a reference holding "the" twice: precision 2/7; c = 7 > r = 6, no penalty
    cand = ["the"] * 7
    ref = "the cat is on the mat".split()
    assert bleu_score(cand, [ref], n=1) == pytest.approx(2 / 7)


def test_clipping_uses_the_best_single_reference():
    # reference 2 holds "the" three times: 3 of 4 candidate unigrams count
    cand = ["the"] * 4
    refs = ["the cat".split(), "the the the dog".split()]
    assert bleu_score(cand, refs, n=1) == pytest.approx(3 / 4)


def test_bigram_hand_value():
    # p1 = 3/4 (a, b, d), p2 = 1/3 (only "a b"); geometric mean sqrt(1/4) = 1/2; c = r = 4
    assert bleu_score("a b c d".split(), ["a b x d".split()], n=2) == pytest.approx(0.5)


def test_brevity_penalty():
    # all n-grams match but c = 2 < r = 6: BP = exp(1 - 6/2) = e^-2
    assert bleu_score(["the", "cat"], ["the cat is on the mat".split()], n=2) == pytest.approx(math.exp(-2))


def test_closest_reference_length_prefers_shorter_on_tie():
    # c = 4; references of length 3 and 5 are equally close, the shorter (3) is used -> no penalty
    cand = "a b c d".split()
    refs = ["a b c".split(), "a b c d e".split()]
    assert bleu_score(cand, refs, n=1) == pytest.approx(1.0)
    # with only the longer one, r = 5 > c: BP = exp(1 - 5/4)
    assert bleu_score(cand, [refs[1]], n=1) == pytest.approx(math.exp(-0.25))


def test_zero_when_an_order_has_no_match():
    assert bleu_score("a b c".split(), ["c b a".split()], n=2) == 0.0
    assert bleu_score([], ["a".split()], n=1) == 0.0
    # BLEU-4 of a 3-word sentence has no 4-grams at all
    assert bleu_score("a b c".split(), ["a b c".split()], n=4) == 0.0


def test_corpus_bleu_pools_counts():
    cands = [["a", "b"], ["c", "d"]]
    refs = [[["a", "b"]], [["x", "y"]]]
    # unigrams 2/4, bigrams 1/2 pooled: sqrt(1/4); lengths c = r = 4
    assert corpus_bleu(cands, refs, n=2) == pytest.approx(0.5)
    assert corpus_bleu(cands, refs, n=1) == pytest.approx(0.5)
    # the second sentence alone has no match at all
    assert bleu_score(cands[1], refs[1], n=1) == 0.0


def test_bad_inputs():
    with pytest.raises(ValueError, match="list of token strings"):
        bleu_score("a b c", [["a"]])
    with pytest.raises(ValueError, match="non-empty list"):
        bleu_score(["a"], [])
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        bleu_score(["a"], [["a"]], n=0)
    with pytest.raises(ValueError, match="one list of references per candidate"):
        corpus_bleu([["a"]], [])


def test_agrees_with_nltk_when_installed():
    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    cand = "a big red circle left of a blue square".split()
    refs = ["a big red circle left of a small blue square".split(), "a red circle and a square".split()]
    for n in (1, 2, 3, 4):
        weights = tuple([1 / n] * n)
        assert bleu_score(cand, refs, n=n) == pytest.approx(nltk_bleu.sentence_bleu(refs, cand, weights=weights))
