"""How the desk's words are put together, whatever the reader's language."""

from django.utils.translation import pgettext


def in_sentence(label) -> str:
    """A label (a status, an outcome, a kind) as it reads inside a sentence.

    English and Dutch write it in lower case there, but German keeps the capital of every noun
    ("Quarantäne"): each catalogue says which with its translation of the word below, so a new
    language decides it where its other words are.
    """
    keep = pgettext("a label inside a sentence: 'lower' to lower-case it, 'keep' not to", "lower")
    return str(label) if keep == "keep" else str(label).lower()
