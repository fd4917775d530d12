"""Latin spellings of names for email addresses, domains and English company names.

Faker gives Greek and Korean names in their own scripts only; companies from those countries
trade under a Latin name and their people have Latin email addresses, so the seed transliterates.
The rules are the everyday ones people use in addresses (ELOT 743 without diacritics for
Greek, Revised Romanization with the customary surname spellings for Korean), not the
scholarly ones.
"""

from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ı": "i",  # Turkish dotless i does not decompose
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "þ": "th",
    }
)
_GERMAN_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def ascii_fold(text: str, *, german: bool = False) -> str:
    """Drop accents as people do when typing an address: Müller → Muller (Mueller if German)."""
    if german:
        text = text.translate(_GERMAN_UMLAUTS)
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def slug(text: str, separator: str = "") -> str:
    """Lower-case ASCII letters and digits, other runs replaced by `separator`: a DNS label."""
    return _NOT_SLUG.sub(separator, ascii_fold(text).lower()).strip("-")


# --- Greek (ELOT 743, simplified) ---

_GREEK_PAIRS = {
    "ου": "ou",
    "αι": "ai",
    "ει": "ei",
    "οι": "oi",
    "αυ": "av",
    "ευ": "ev",
    "γγ": "ng",
    "γκ": "gk",
    "μπ": "mp",
    "ντ": "nt",
    "τσ": "ts",
    "τζ": "tz",
}
_GREEK_INITIAL_PAIRS = {"μπ": "b", "ντ": "d", "γκ": "g"}
# fmt: off
_GREEK_SINGLE = dict(zip(
    "αβγδεζηθικλμνξοπρσςτυφχψω",
    ("a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x", "o", "p", "r",
     "s", "s", "t", "y", "f", "ch", "ps", "o"),
    strict=True,
))
# fmt: on


def _strip_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def greek_to_latin(text: str) -> str:
    """Παπαδόπουλος → Papadopoulos, Μπαλτατζής → Baltatzis; each word capitalized."""
    words = []
    for word in _strip_marks(text).lower().split():
        out = []
        i = 0
        while i < len(word):
            pair = word[i : i + 2]
            if i == 0 and pair in _GREEK_INITIAL_PAIRS:
                out.append(_GREEK_INITIAL_PAIRS[pair])
                i += 2
            elif pair in _GREEK_PAIRS:
                out.append(_GREEK_PAIRS[pair])
                i += 2
            else:
                out.append(_GREEK_SINGLE.get(word[i], word[i]))
                i += 1
        words.append("".join(out).capitalize())
    return " ".join(words)


# --- Korean (Revised Romanization per syllable; surnames as they appear in passports) ---

# fmt: off
_INITIALS = ("g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k",
             "t", "p", "h")
_MEDIALS = ("a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u",
            "wo", "we", "wi", "yu", "eu", "ui", "i")
_FINALS = ("", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m",
           "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t")
# fmt: on
_KOREAN_SURNAMES = {
    "김": "Kim",
    "이": "Lee",
    "박": "Park",
    "최": "Choi",
    "정": "Jung",
    "강": "Kang",
    "조": "Cho",
    "윤": "Yoon",
    "장": "Jang",
    "임": "Lim",
    "한": "Han",
    "오": "Oh",
    "서": "Seo",
    "신": "Shin",
    "권": "Kwon",
    "황": "Hwang",
    "안": "Ahn",
    "송": "Song",
    "류": "Ryu",
    "유": "Yoo",
    "전": "Jeon",
    "홍": "Hong",
    "고": "Ko",
    "문": "Moon",
    "양": "Yang",
    "손": "Son",
    "배": "Bae",
    "백": "Baek",
    "허": "Heo",
    "남": "Nam",
    "노": "Noh",
    "하": "Ha",
    "곽": "Kwak",
    "성": "Sung",
    "차": "Cha",
    "주": "Joo",
    "우": "Woo",
    "구": "Koo",
    "민": "Min",
    "진": "Jin",
    "나": "Na",
    "지": "Ji",
    "변": "Byun",
    "채": "Chae",
    "원": "Won",
    "천": "Cheon",
    "방": "Bang",
    "공": "Kong",
    "현": "Hyun",
    "석": "Seok",
    "설": "Seol",
    "마": "Ma",
    "길": "Gil",
    "연": "Yeon",
    "위": "Wi",
    "표": "Pyo",
    "명": "Myung",
    "기": "Ki",
    "반": "Ban",
    "왕": "Wang",
    "금": "Geum",
    "옥": "Ok",
    "육": "Yook",
    "인": "In",
    "맹": "Maeng",
    "제": "Je",
    "모": "Mo",
    "탁": "Tak",
    "국": "Kook",
    "여": "Yeo",
    "어": "Eo",
    "은": "Eun",
    "편": "Pyeon",
    "용": "Yong",
    "예": "Ye",
    "경": "Kyung",
    "봉": "Bong",
    "사": "Sa",
    "부": "Boo",
    "황보": "Hwangbo",
    "남궁": "Namgung",
    "선우": "Sunwoo",
    "제갈": "Jegal",
    "독고": "Dokgo",
}


def hangul_to_latin(text: str) -> str:
    """민준 → Minjun: syllables decomposed arithmetically (Unicode Hangul block)."""
    out = []
    for char in text:
        code = ord(char) - 0xAC00
        if not 0 <= code < 11172:
            out.append(char)
            continue
        initial, rest = divmod(code, 588)
        medial, final = divmod(rest, 28)
        out.append(_INITIALS[initial] + _MEDIALS[medial] + _FINALS[final])
    return "".join(out).capitalize()


def korean_surname_to_latin(surname: str) -> str:
    return _KOREAN_SURNAMES.get(surname) or hangul_to_latin(surname)
