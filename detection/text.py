"""Title normalisation shared by the bank and the matcher, so that a re-listing's cosmetic edits vanish:
Unicode compatibility forms, homoglyphs from other scripts (a Cyrillic letter a for the Latin one, transliterated by
anyascii), case, punctuation and repeated spaces."""

import math
import re
import unicodedata

from anyascii import anyascii

_NOT_WORD = re.compile(r"[^a-z0-9]+")
#: Lower-case Cyrillic and Greek letters that look like Latin ones (Unicode's confusables, the common
#: part). anyascii transliterates by sound (Cyrillic "es" becomes "s"), so these are mapped first.
_LOOKALIKES = str.maketrans(
    "\u0430\u0432\u0435\u0455\u0456\u0458\u043a\u043c\u043d\u043e\u0440\u0441\u0442\u0443\u0445\u0501\u051b\u051d"
    "\u03b1\u03b2\u03b5\u03b9\u03ba\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7",
    "abesijkmhopctyxdqwabeiknoptux",
)


def normalise_title(title: str) -> str:
    text = anyascii(unicodedata.normalize("NFKC", title or "").casefold().translate(_LOOKALIKES))
    return _NOT_WORD.sub(" ", text).strip()


def title_key(title_normalised: str, brand_name: str) -> str:
    """The normalised title without the brand's own name words: what the bank's trigram index holds. Every
    entry of a brand's bank shares them, so they tell its entries apart no better than nothing, while each
    of their trigrams would send every lookup through the whole bank (docs/performance.md)."""
    brand_words = set(normalise_title(brand_name).split())
    return " ".join(word for word in title_normalised.split() if word not in brand_words)


def seller_name_key(name: str) -> str:
    """A seller's name reduced to letters and digits: a new account under the same shop name links to it."""
    return normalise_title(name).replace(" ", "")


def price_band(price: object) -> int | None:
    """A coarse price band (powers of 1.5): re-listings move the price a little, not tenfold."""
    if price is None:
        return None
    value = float(price)  # type: ignore[arg-type]
    if value <= 0:
        return 0
    return math.floor(math.log(value, 1.5))
