"""Taste as a few simple preferences: how the radio searches before anything is liked.

The sound model (:class:`~player.taste.sound.SoundModel`, a Gaussian process) learns a
listener well once it has a liked sound to stand on. Before that it only knows what was
skipped, and it searches by distance: it auditions what sounds least like the skipped
tracks in all eight dimensions at once, loudness, bass and beat clarity included. A
listener who likes what few tracks are (slow, bright *and* major: about 3 % of random
requests) then waited twenty tracks or more for a first like, and some sessions never got
one.

Listeners state a taste as a few simple preferences: slow, bright, in a major key, not
busy. :class:`RuleModel` takes that as its hypothesis space: every conjunction of one to
three thresholds on what a listener hears (tempo, mode, brightness, onsets), each covering
between :data:`MIN_SHARE` and :data:`MAX_SHARE` of the engine's sounds. Each verdict makes
the hypotheses it contradicts :data:`CONTRADICTION` times less likely (a skipped sound
inside one, a liked sound outside it: soft, because a beat tracker or key finder may hear
a track differently than the listener), and a sound's chance of being liked is the
weight of the hypotheses it satisfies. Thompson sampling draws one hypothesis per
audition and asks for the sound most likely inside it. A skip then rules out, at once,
every simple taste the skipped sound satisfied, so the search moves across the tastes
still possible instead of only away from the sounds heard.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy.special import ndtr

#: Where predicted sounds' tempo may be heard: (standard units, chances, spread), the
#: first two ``(sounds, octaves)`` (:meth:`EngineSoundModel.heard_tempo`).
TempoChances = tuple[np.ndarray, np.ndarray, float]
TEMPO = 1  # the heard tempo's index in the description
#: The description's dimensions a rule may name (indices into ``sound.SOUND_NAMES``):
#: heard tempo, minorness, brightness, onsets — what a listener says a taste is about.
RULE_DIMS = (1, 2, 3, 4)
#: Thresholds, in standard units of the engine's sound distribution.
THRESHOLDS = (-1.0, -0.5, 0.0, 0.5, 1.0)
#: A taste met by fewer sounds than this the engine can hardly serve; one met by more than
#: this would have been met within the first few tracks anyway.
MIN_SHARE, MAX_SHARE = 0.02, 0.6
#: How much less likely a hypothesis becomes for each verdict that contradicts it.
CONTRADICTION = 10.0
#: How soft a rule's edge is for a described sound (standard units): the listener's ear and
#: the product's analysis disagree near a threshold.
EDGE = 0.15


class RuleModel:
    """The hypotheses and their weights; stateless apart from the fixed hypothesis table."""

    def __init__(self) -> None:
        literals = [
            (d, sign, t) for d in range(len(RULE_DIMS)) for sign in (1.0, -1.0) for t in THRESHOLDS
        ]
        self._dim = np.array([d for d, _, _ in literals])
        self._sign = np.array([s for _, s, _ in literals])
        self._threshold = np.array([t for _, _, t in literals])
        always = len(literals)  # index of a literal every sound satisfies (padding)
        rules = []
        for size in (1, 2, 3):
            for combo in itertools.combinations(range(len(literals)), size):
                share = _share([literals[i] for i in combo])
                if share is not None and MIN_SHARE <= share <= MAX_SHARE:
                    rules.append(list(combo) + [always] * (3 - size))
        self.rules = np.array(rules)

    def __len__(self) -> int:
        return len(self.rules)

    def membership(
        self,
        z: np.ndarray,
        spread: np.ndarray | float = EDGE,
        rules: np.ndarray | None = None,
        tempo: TempoChances | None = None,
    ) -> np.ndarray:
        """(sounds, rules): the chance each standardised sound satisfies each rule (or each
        of ``rules``, indices), its dimensions uncertain by ``spread`` (per rule dimension,
        or one value). ``tempo``: where each sound's tempo may be heard instead (standard
        units, chances, spread), for predicted sounds whose heard tempo is one of a few
        octaves rather than a Gaussian."""
        z = np.atleast_2d(z)[:, RULE_DIMS]
        spread = np.broadcast_to(np.asarray(spread, dtype=float), (len(RULE_DIMS),))
        margin = (z[:, self._dim] - self._threshold) * self._sign / spread[self._dim]
        lit = ndtr(margin)
        if tempo is not None:
            where, chance, width = tempo
            cols = self._dim == RULE_DIMS.index(TEMPO)
            m = (where[:, :, None] - self._threshold[cols]) * self._sign[cols] / width
            lit[:, cols] = np.einsum("no,nol->nl", chance, ndtr(m))
        lit = np.concatenate([lit, np.ones((len(z), 1))], axis=1)
        r = self.rules if rules is None else self.rules[rules]
        return np.asarray(lit[:, r[:, 0]] * lit[:, r[:, 1]] * lit[:, r[:, 2]])

    def log_weights(
        self, z: np.ndarray, rewards: Sequence[float], weights: Sequence[float] | np.ndarray
    ) -> np.ndarray:
        """Log weight of each rule after the verdicts on standardised sounds ``z``: a skip
        (reward < 0) inside a rule and a like (reward > 0) outside it each divide it by
        :data:`CONTRADICTION`, scaled by the verdict's weight."""
        if len(rewards) == 0:
            return np.zeros(len(self.rules))
        inside = self.membership(z)
        r = np.asarray(rewards, dtype=float)
        w = np.asarray(weights, dtype=float)
        against = np.where(r[:, None] < 0, inside, 0.0) + np.where(r[:, None] > 0, 1 - inside, 0.0)
        strength = w * np.minimum(np.abs(r), 1.0)
        return np.asarray(-np.log(CONTRADICTION) * (strength @ against))

    def chance(
        self,
        log_w: np.ndarray,
        z: np.ndarray,
        spread: np.ndarray | float = EDGE,
        tempo: TempoChances | None = None,
    ) -> np.ndarray:
        """Each sound's chance of being liked: the weight of the rules it satisfies."""
        p = np.exp(log_w - log_w.max())
        return np.asarray(self.membership(z, spread, tempo=tempo) @ (p / p.sum()))

    def draws(
        self,
        log_w: np.ndarray,
        z: np.ndarray,
        rng: np.random.Generator,
        n: int,
        spread: np.ndarray | float = EDGE,
        tempo: TempoChances | None = None,
    ) -> np.ndarray:
        """(n, sounds): for each of ``n`` rules drawn by weight, each sound's chance of
        satisfying it (Thompson sampling over the hypotheses)."""
        p = np.exp(log_w - log_w.max())
        picked = rng.choice(len(self.rules), size=n, p=p / p.sum())
        return np.asarray(self.membership(z, spread, picked, tempo).T)


def _share(literals: Sequence[tuple[int, float, float]]) -> float | None:
    """The share of sounds a conjunction covers, were the dimensions independent standard
    normals; None when it is not a simple taste: two literals on one dimension must make a
    band (at least, at most, in that order), never three."""
    share = 1.0
    for d in {lit[0] for lit in literals}:
        on = [lit for lit in literals if lit[0] == d]
        if len(on) == 1:
            _, sign, t = on[0]
            share *= float(ndtr(-sign * t))
        elif len(on) == 2:
            lower = [t for _, sign, t in on if sign > 0]
            upper = [t for _, sign, t in on if sign < 0]
            if len(lower) != 1 or len(upper) != 1 or lower[0] >= upper[0]:
                return None
            share *= float(ndtr(upper[0]) - ndtr(lower[0]))
        else:
            return None
    return share
