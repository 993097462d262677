"""The 47 prefectures: names, kana and English forms, and detection in text."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

# (canonical name, stem, English, hiragana stem)
_TABLE = [
    ("北海道", "北海道", "Hokkaido", "ほっかいどう"),
    ("青森県", "青森", "Aomori", "あおもり"),
    ("岩手県", "岩手", "Iwate", "いわて"),
    ("宮城県", "宮城", "Miyagi", "みやぎ"),
    ("秋田県", "秋田", "Akita", "あきた"),
    ("山形県", "山形", "Yamagata", "やまがた"),
    ("福島県", "福島", "Fukushima", "ふくしま"),
    ("茨城県", "茨城", "Ibaraki", "いばらき"),
    ("栃木県", "栃木", "Tochigi", "とちぎ"),
    ("群馬県", "群馬", "Gunma", "ぐんま"),
    ("埼玉県", "埼玉", "Saitama", "さいたま"),
    ("千葉県", "千葉", "Chiba", "ちば"),
    ("東京都", "東京", "Tokyo", "とうきょう"),
    ("神奈川県", "神奈川", "Kanagawa", "かながわ"),
    ("新潟県", "新潟", "Niigata", "にいがた"),
    ("富山県", "富山", "Toyama", "とやま"),
    ("石川県", "石川", "Ishikawa", "いしかわ"),
    ("福井県", "福井", "Fukui", "ふくい"),
    ("山梨県", "山梨", "Yamanashi", "やまなし"),
    ("長野県", "長野", "Nagano", "ながの"),
    ("岐阜県", "岐阜", "Gifu", "ぎふ"),
    ("静岡県", "静岡", "Shizuoka", "しずおか"),
    ("愛知県", "愛知", "Aichi", "あいち"),
    ("三重県", "三重", "Mie", "みえ"),
    ("滋賀県", "滋賀", "Shiga", "しが"),
    ("京都府", "京都", "Kyoto", "きょうと"),
    ("大阪府", "大阪", "Osaka", "おおさか"),
    ("兵庫県", "兵庫", "Hyogo", "ひょうご"),
    ("奈良県", "奈良", "Nara", "なら"),
    ("和歌山県", "和歌山", "Wakayama", "わかやま"),
    ("鳥取県", "鳥取", "Tottori", "とっとり"),
    ("島根県", "島根", "Shimane", "しまね"),
    ("岡山県", "岡山", "Okayama", "おかやま"),
    ("広島県", "広島", "Hiroshima", "ひろしま"),
    ("山口県", "山口", "Yamaguchi", "やまぐち"),
    ("徳島県", "徳島", "Tokushima", "とくしま"),
    ("香川県", "香川", "Kagawa", "かがわ"),
    ("愛媛県", "愛媛", "Ehime", "えひめ"),
    ("高知県", "高知", "Kochi", "こうち"),
    ("福岡県", "福岡", "Fukuoka", "ふくおか"),
    ("佐賀県", "佐賀", "Saga", "さが"),
    ("長崎県", "長崎", "Nagasaki", "ながさき"),
    ("熊本県", "熊本", "Kumamoto", "くまもと"),
    ("大分県", "大分", "Oita", "おおいた"),
    ("宮崎県", "宮崎", "Miyazaki", "みやざき"),
    ("鹿児島県", "鹿児島", "Kagoshima", "かごしま"),
    ("沖縄県", "沖縄", "Okinawa", "おきなわ"),
]

PREFECTURES: tuple[str, ...] = tuple(row[0] for row in _TABLE)
ENGLISH = {row[0]: row[2] for row in _TABLE}
_BY_KEY: dict[str, str] = {}
for name, stem, en, kana in _TABLE:
    for key in (name, stem, en.lower(), kana, f"{en.lower()} prefecture"):
        _BY_KEY[key] = name
_BY_KEY["hokkaidō"] = "北海道"

_FULL_NAME = re.compile("|".join(sorted((re.escape(p) for p in PREFECTURES), key=len, reverse=True)))
# a stem counts in a question only when it is not part of a longer word we know is not a place
_STEM = re.compile("|".join(sorted((re.escape(r[1]) for r in _TABLE), key=len, reverse=True)))
_EN = re.compile(r"(?i)\b(" + "|".join(r[2] for r in _TABLE) + r")\b")
# kana names stand alone: not inside a kana word, nor the kana ending of a kanji word (買越しが見られた is not
# しが); a particle may follow (やまなしの, みえは)
_KANA = re.compile(
    "(?<![ぁ-ゖ一-龥々〆])(" + "|".join(r[3] for r in _TABLE) + ")(?=[のはがでにをとへもや](?![ぁ-ゖ])|(?![ぁ-ゖ]))"
)


def canonical(name: str) -> str | None:
    """'三重' / 'Mie' / 'みえ' / '三重県' -> '三重県'; None if not a prefecture."""
    key = unicodedata.normalize("NFKC", name).strip().lower()
    return _BY_KEY.get(key)


def mentioned_in_question(text: str) -> list[str]:
    """Prefectures a question names, in any of the accepted forms, in order."""
    text = unicodedata.normalize("NFKC", text)
    found: list[str] = []
    for m in _STEM.finditer(text):
        name = _BY_KEY[m.group()]
        if name not in found:
            found.append(name)
    for m in _EN.finditer(text):
        name = _BY_KEY[m.group(1).lower()]
        if name not in found:
            found.append(name)
    for m in _KANA.finditer(text):
        name = _BY_KEY[m.group(1)]
        if name not in found:
            found.append(name)
    return found


def detect_in_document(text: str) -> str | None:
    """The prefecture a document is about: the full name it mentions most, if clearly dominant."""
    counts = Counter(_FULL_NAME.findall(unicodedata.normalize("NFKC", text)))
    if not counts:
        return None
    (best, n), *rest = [*counts.most_common(2), (None, 0)]
    second = rest[0][1] if rest else 0
    # a short document whose title line names one prefecture, and that no other prefecture appears in
    title = next((line for line in unicodedata.normalize("NFKC", text).splitlines() if line.strip()), "")[:60]
    if best in title and second == 0 and n >= 2:
        return best
    # a plan mentions its own prefecture again and again; a passing mention is not enough
    # (a long national white paper that cites one prefecture's case a few times is not that prefecture's:
    # the mentions needed grow with the text, one per 5,000 characters)
    return best if n >= max(3, len(text) // 5000) and n >= 2 * second else None
