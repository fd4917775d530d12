"""What a request to the helpdesk is about, from its words, in English and in Japanese.

Rules, not a model: agents must be able to read why a message landed in a category, and a
wrong guess only costs a click in the dashboard. Each category has phrases; a phrase in the
subject counts double (people put the problem there), and the category with the highest score
wins. On a tie the more specific problem wins — "the link expired so I cannot log in" is about
the expired link — in the order of `PRIORITY`.

Text is compared after NFKC normalization (full-width letters and digits become ASCII, half-width
katakana full-width) and case folding, so ＬＯＧＩＮ, Log-In and login read alike.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from db.enums import HelpdeskCategory

SUBJECT_WEIGHT = 2

# Most specific first: decides ties.
PRIORITY = (
    HelpdeskCategory.LINK_EXPIRED,
    HelpdeskCategory.EMAIL_NOT_RECEIVED,
    HelpdeskCategory.WRONG_ORGANIZATION,
    HelpdeskCategory.ADD_OR_REMOVE_USER,
    HelpdeskCategory.CANNOT_LOG_IN,
)

_LOGIN = r"(?:log[\s-]?in|sign[\s-]?in|logon|log[\s-]?on)"
_NEG = r"(?:can\s?not|can't|cant|unable\s+to|could\s?n[o']t|not\s+able\s+to|fail(?:ed|s)?\s+to)"

_RULES: dict[HelpdeskCategory, tuple[str, ...]] = {
    HelpdeskCategory.LINK_EXPIRED: (
        r"link\w*\s+(?:has\s+|have\s+|had\s+)?expired",
        r"expired\s+(?:verification\s+|confirmation\s+)?link",
        r"link\w*\s+(?:is\s+|was\s+)?(?:no\s+longer\s+valid|invalid|not\s+valid|dead)",
        r"link\w*\s+(?:does\s+not|doesn't|did\s+not|didn't)\s+work",
        r"\bexpired\b",
        r"期限切れ",
        r"有効期限",
        r"リンク.{0,8}(?:無効|切れ|使え|開け)",
        r"url.{0,8}(?:無効|切れ)",
    ),
    HelpdeskCategory.EMAIL_NOT_RECEIVED: (
        r"(?:not|never|n't|nothing)\s+(?:been\s+)?(?:received|arrived|come|got(?:ten)?)",
        r"(?:did\s+not|didn't|have\s+not|haven't|has\s+not|hasn't)\s+(?:yet\s+)?(?:receive|get|got)",
        r"no\s+(?:verification\s+|confirmation\s+)?e-?mail",
        r"(?:e-?mail|message)\s+(?:is\s+|was\s+)?missing",
        r"spam\s+folder",
        r"junk\s+(?:folder|mail)",
        r"届[かき](?:ない|ません|ず)",
        r"受信(?:でき|出来)(?:ない|ません)",
        r"(?:メール|mail).{0,6}(?:来ない|来ません|こない|きません)",
        r"迷惑メール",
    ),
    HelpdeskCategory.WRONG_ORGANIZATION: (
        r"wrong\s+(?:organi[sz]ation|company|account|customer)",
        r"(?:different|another|other)\s+(?:organi[sz]ation|company)",
        r"not\s+(?:our|my)\s+(?:organi[sz]ation|company)",
        r"(?:organi[sz]ation|company)\s+name\s+(?:is\s+)?(?:wrong|incorrect)",
        r"(?:組織|会社|企業|所属).{0,6}(?:違|間違|異な)",
        r"(?:別|他|違う)の?(?:会社|組織|企業)",
    ),
    HelpdeskCategory.ADD_OR_REMOVE_USER: (
        r"(?:add|adding|invite|register)\s+(?:a\s+|an\s+|another\s+|more\s+|new\s+)*"
        r"(?:user|colleague|person|member|staff|account)s?",
        r"(?:remove|delete|deactivate|disable)\s+(?:a\s+|an\s+|the\s+|this\s+)?"
        r"(?:user|colleague|person|member|account)s?",
        r"(?:left|leaving|retired\s+from)\s+(?:the|our)\s+company",
        r"(?:change|replace)\s+(?:the\s+|our\s+)?(?:administrator|admin)",
        r"additional\s+(?:user|person|account)s?",
        r"ユーザー?.{0,4}(?:追加|削除|変更)",
        r"(?:追加|削除)(?:登録|したい|してください|をお願い)",
        r"退職",
        r"担当者.{0,4}(?:変更|交代|追加)",
        r"管理者.{0,4}(?:変更|交代)",
    ),
    HelpdeskCategory.CANNOT_LOG_IN: (
        rf"{_NEG}\s+(?:to\s+)?{_LOGIN}",
        rf"{_LOGIN}\s+(?:is\s+|has\s+)?(?:fail(?:ed|s|ing)?|not\s+work\w*|error|problem|denied)",
        rf"{_LOGIN}\s+(?:does\s+not|doesn't|did\s+not|didn't)\s+work",
        r"(?:forgot|forgotten|lost|reset)\s+(?:my\s+|the\s+|our\s+)?password",
        r"password\s+(?:is\s+)?(?:wrong|incorrect|not\s+accepted|does\s+not\s+work)",
        r"locked\s+out",
        r"account\s+(?:is\s+)?locked",
        r"ログイン(?:でき|出来)(?:ない|ません|ず)",
        r"ログイン.{0,6}(?:失敗|エラー|不可)",
        r"サインイン(?:でき|出来)(?:ない|ません)",
        r"パスワード.{0,8}(?:忘れ|分から|わから|違|再設定|リセット)",
        r"(?:アカウント|ユーザー?).{0,4}ロック",
        r"ロックされ",
    ),
}

_COMPILED = {
    category: tuple(re.compile(pattern) for pattern in patterns)
    for category, patterns in _RULES.items()
}


def normalize(text: str) -> str:
    """NFKC, case-folded, with runs of whitespace as one space."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class Categorized:
    category: HelpdeskCategory
    score: int
    rule: str | None  # the first pattern that matched, for the audit trail

    @property
    def guessed(self) -> bool:
        return self.rule is not None


def categorize(subject: str | None, body: str | None) -> Categorized:
    """The category of a request; OTHER when no rule matches."""
    title = normalize(subject or "")
    text = normalize(body or "")
    best = Categorized(HelpdeskCategory.OTHER, 0, None)
    for category in PRIORITY:
        score = 0
        first: str | None = None
        for pattern in _COMPILED[category]:
            hits = SUBJECT_WEIGHT * len(pattern.findall(title)) + len(pattern.findall(text))
            if hits and first is None:
                first = pattern.pattern
            score += hits
        # Strictly greater: on a tie, the category earlier in PRIORITY keeps its place.
        if score > best.score:
            best = Categorized(category, score, first)
    return best
