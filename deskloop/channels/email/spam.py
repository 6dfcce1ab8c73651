"""Is this inbound email spam? The verdict of the MTA's filter (SpamAssassin, rspamd), when the mailbox trusts it,
else a multinomial naive Bayes over the words of the subject and body, the sender's domain and the linked hosts.

Pure, like decide.py: the pipeline asks ``judge`` after ``decide`` chose to deliver a message (refused mail never
costs a model), with the model it loaded (spam_learning.py: the shipped default counts plus the workspace's own,
learned from agents' "spam" / "not spam"); deliver.py opens a suspected spam's new ticket in the Spam view. Cost per message is bounded: at most
``MAX_TEXT_CHARS`` of body are read and at most ``MAX_TOKENS`` distinct tokens scored (BENCHMARKS.md, "Spam filter").
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .parsing import ParsedEmail

MAX_TEXT_CHARS = 20_000
MAX_SUBJECT_CHARS = 500
MAX_TOKENS = 400  # distinct tokens per message, scored and learned
MAX_REPEAT = 3  # one word said ten times is not ten times the evidence
MAX_TOKEN_CHARS = 60  # SpamTokenCount.token's length

# The score is the mean log-likelihood ratio per known token: a sum grows with the length of the message, so a
# long newsletter would outscore a short spam. The threshold is the lowest with no ham in Spam on the validation part
# of the shipped corpus (bench/spam_quality.py; BENCHMARKS.md, "Spam filter").
DEFAULT_THRESHOLD = 0.5
# Fewer known tokens than this is too little evidence to call anything spam.
MIN_KNOWN_TOKENS = 8
# One message an agent marked counts as this many of the default corpus, so the workspace's own mail soon outweighs
# what the corpus taught about mail in general. "Not spam" weighs more than "spam": ham must almost never land in
# Spam, so one rescue is enough for the same kind of mail to reach the inbox next time (test_spam_filter.py), while
# one "spam" mark must not turn words that legitimate mail shares into evidence against it.
LEARNED_SPAM_WEIGHT = 10
LEARNED_HAM_WEIGHT = 50
_SMOOTHING = 1.0

# Words of letters and digits (any script), 2 to 30 characters; hosts of links.
_WORD = re.compile(r"[^\W_]{2,30}")
_CAPS_WORD = re.compile(r"\b[A-Z]{4,}\b")
_LINK_HOST = re.compile(r"(?:https?://|www\.)([a-z0-9.-]{3,100})", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")

# rspamd actions that mean the message is spam (the others: "no action", "greylist", "soft reject").
_RSPAMD_SPAM_ACTIONS = frozenset({"add header", "rewrite subject", "reject"})
EVIDENCE_MAX = 300

Features = dict[str, int]


class SpamSource:
    """Who called the message spam (``SpamVerdict.source``)."""

    SPAMASSASSIN = "spamassassin"
    RSPAMD = "rspamd"
    CLASSIFIER = "classifier"


@dataclass(frozen=True)
class SpamVerdict:
    """Why a message is suspected spam: ``evidence`` is the header as received or the classifier's score."""

    source: str
    score: float | None
    evidence: str


@dataclass(frozen=True)
class TokenCounts:
    """How often each token was seen in spam and in ham, and in how many messages of each."""

    counts: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    spam_messages: int = 0
    ham_messages: int = 0

    @property
    def spam_tokens(self) -> int:
        return sum(spam for spam, _ham in self.counts.values())

    @property
    def ham_tokens(self) -> int:
        return sum(ham for _spam, ham in self.counts.values())


@dataclass(frozen=True)
class SpamModel:
    """The shipped default counts adjusted by a workspace's learned ones. Build one per (workspace, version) and
    reuse it: the totals are worked out once here, not per message."""

    default: TokenCounts
    learned: TokenCounts = field(default_factory=TokenCounts)
    threshold: float = DEFAULT_THRESHOLD
    spam_weight: int = LEARNED_SPAM_WEIGHT
    ham_weight: int = LEARNED_HAM_WEIGHT
    _spam_norm: float = field(init=False, repr=False)
    _ham_norm: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        vocabulary = len(self.default.counts) + sum(1 for t in self.learned.counts if t not in self.default.counts)
        spam_total = self.default.spam_tokens + self.spam_weight * self.learned.spam_tokens
        ham_total = self.default.ham_tokens + self.ham_weight * self.learned.ham_tokens
        object.__setattr__(self, "_spam_norm", math.log(spam_total + _SMOOTHING * max(vocabulary, 1)))
        object.__setattr__(self, "_ham_norm", math.log(ham_total + _SMOOTHING * max(vocabulary, 1)))

    def score(self, features: Features) -> float:
        """The mean log-likelihood ratio of spam over ham per known token (equal priors: how much spam a helpdesk
        gets varies too much for a corpus's share to mean anything); 0 with fewer than ``MIN_KNOWN_TOKENS`` known.
        Tokens never seen carry no evidence and are skipped."""
        total = 0.0
        known = 0
        for token, repeat in features.items():
            default_spam, default_ham = self.default.counts.get(token, (0, 0))
            learned_spam, learned_ham = self.learned.counts.get(token, (0, 0))
            spam = default_spam + self.spam_weight * learned_spam
            ham = default_ham + self.ham_weight * learned_ham
            if spam == 0 and ham == 0:
                continue
            known += 1
            total += repeat * (
                math.log(spam + _SMOOTHING) - self._spam_norm - math.log(ham + _SMOOTHING) + self._ham_norm
            )
        return total / known if known >= MIN_KNOWN_TOKENS else 0.0


@dataclass(frozen=True)
class SpamCheck:
    """What the pipeline passes to ``judge``: whether the mailbox trusts its MTA's verdict headers, and the model
    (None: no classifier, e.g. in tests of other rules)."""

    trust_headers: bool = False
    model: SpamModel | None = None


def features(*, subject: str, text: str, sender: str) -> Features:
    """The tokens of one message with their (capped) counts, the same for scoring and learning."""
    found: Features = {}

    def add(token: str) -> None:
        token = token[:MAX_TOKEN_CHARS]
        if token in found:
            found[token] = min(found[token] + 1, MAX_REPEAT)
        elif len(found) < MAX_TOKENS:
            found[token] = 1

    domain = sender.rpartition("@")[2].strip().lower()
    if domain:
        add("from:" + domain)
        add("from-tld:" + domain.rpartition(".")[2])
    subject = subject[:MAX_SUBJECT_CHARS]
    for word in _WORD.findall(subject.lower()):
        add("subject:" + word)
    body = text[:MAX_TEXT_CHARS]
    for host in _LINK_HOST.findall(body):
        add("link:" + host.lower().rstrip("."))
    for _caps in _CAPS_WORD.findall(subject + "\n" + body):
        add("shape:caps")
    for word in _WORD.findall(body.lower()):
        add(word)
    return found


def judge(parsed: ParsedEmail, *, sender: str, check: SpamCheck) -> SpamVerdict | None:
    """The trusted header verdict when there is one, else the classifier's (None: not suspected)."""
    if check.trust_headers:
        verdict = header_verdict(parsed)
        if verdict is not None:
            return verdict
    if check.model is None:
        return None
    score = check.model.score(features(subject=parsed.subject, text=parsed.text, sender=sender))
    if score < check.model.threshold:
        return None
    return SpamVerdict(SpamSource.CLASSIFIER, round(score, 2), f"{score:.2f} >= {check.model.threshold:.2f}")


def header_verdict(parsed: ParsedEmail) -> SpamVerdict | None:
    """What the MTA's filter said, from the first (topmost, so last added: by our own MTA) of each header. Only
    for a mailbox that trusts them: anyone can write these headers into a message they send."""
    flag = parsed.header("X-Spam-Flag").strip().lower()
    status = parsed.header("X-Spam-Status").strip()
    if flag == "yes" or status.lower().startswith("yes"):
        evidence = f"X-Spam-Status: {status}" if status else "X-Spam-Flag: YES"
        return SpamVerdict(SpamSource.SPAMASSASSIN, _number_after(status, "score=", "hits="), evidence[:EVIDENCE_MAX])
    result = parsed.header("X-Spamd-Result").strip()
    action = parsed.header("X-Rspamd-Action").strip().lower()
    said_yes = parsed.header("X-Spam").strip().lower() == "yes"
    result_spam = result.lower().startswith("default: true")
    if said_yes or result_spam or action in _RSPAMD_SPAM_ACTIONS:
        score_header = parsed.header("X-Rspamd-Score").strip()
        score = _number_after(score_header, "") if score_header else _number_after(result, "[")
        shown = [
            f"{name}: {value}"
            for name, value in (
                ("X-Spam", "Yes" if said_yes else ""),
                ("X-Rspamd-Action", action),
                ("X-Rspamd-Score", score_header),
                ("X-Spamd-Result", result.split(";", 1)[0]),
            )
            if value
        ]
        return SpamVerdict(SpamSource.RSPAMD, score, "; ".join(shown)[:EVIDENCE_MAX])
    return None


def _number_after(text: str, *markers: str) -> float | None:
    lowered = text.lower()
    for marker in markers:
        at = lowered.find(marker)
        if at >= 0:
            match = _NUMBER.match(lowered[at + len(marker) :].lstrip())
            if match is not None:
                return float(match.group())
    return None


def read_counts(document: Mapping[str, object]) -> TokenCounts:
    """Counts from their JSON form (the shipped default model): {"spam_messages", "ham_messages", "tokens":
    {token: [spam, ham]}}."""
    tokens = document["tokens"]
    assert isinstance(tokens, dict)
    spam_messages, ham_messages = document["spam_messages"], document["ham_messages"]
    assert isinstance(spam_messages, int)
    assert isinstance(ham_messages, int)
    return TokenCounts(
        counts={str(token): (int(pair[0]), int(pair[1])) for token, pair in tokens.items()},
        spam_messages=spam_messages,
        ham_messages=ham_messages,
    )
