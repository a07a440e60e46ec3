"""Search words: what an issue is found by and what an agent types are made alike, whatever the
case, accents, script quirks and punctuation."""

from __future__ import annotations

import pytest

from chalicelib.domain.search_words import MAX_ISSUE_WORDS, MAX_LENGTH, issue_words, name_words, words


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("müdür", "Mudur"),  # Turkish, German: umlauts
        ("İSTANBUL", "istanbul"),  # Turkish dotted capital İ
        ("ılık", "ILIK"),  # Turkish dotless ı
        ("Işık", "isik"),
        ("café", "CAFE"),  # French accents
        ("Élève", "eleve"),
        ("Straße", "STRASSE"),  # German ß
        ("Grüße", "GRUSSE"),
        ("Ørsted", "orsted"),  # letters NFKD leaves whole
        ("Łódź", "lodz"),
        ("ﬁnal", "final"),  # ligature
        ("ＡＢＣ", "abc"),  # full-width
    ],
)
def test_a_word_is_found_whatever_its_case_and_accents(typed, written):
    assert words(typed) == words(written) != []


def test_punctuation_emoji_and_underscores_separate_words_and_are_not_words():
    assert words("Broken!!! 😡😡 screen... (again) -- order#AB123456, e-mail_address 🙂") == [
        "broken",
        "screen",
        "again",
        "order",
        "ab123456",
        "mail",
        "address",
    ]


def test_very_short_and_very_common_words_are_left_out_in_every_language():
    assert words("I was at the shop and it is a mess") == ["shop", "mess"]
    assert words("Der Fahrer ist nicht gekommen und die Ware") == ["fahrer", "gekommen", "ware"]
    assert words("Le colis est arrivé pour la deuxième fois") == ["colis", "arrive", "deuxieme", "fois"]
    assert words("Kargo bu hafta da gelmedi ve çok geç") == ["kargo", "hafta", "gelmedi", "gec"]


def test_each_word_counts_once_in_the_order_it_first_appears():
    assert words("Late, LATE, late again: late!") == ["late", "again"]


def test_a_long_run_is_cut_alike_on_both_sides():
    run = "x" * (MAX_LENGTH + 30)
    assert words(run) == ["x" * MAX_LENGTH] == words(run + "yz")


def test_an_issue_is_found_by_every_text_answer_but_only_by_its_first_words():
    fields = {"subject": "Parcel lost", "message": "Courier left it outside", "tags": ["fragile"], "count": 3}
    assert issue_words(fields) == ["parcel", "lost", "courier", "left", "outside", "fragile"]
    many = {"message": " ".join(f"word{n}" for n in range(MAX_ISSUE_WORDS + 50))}
    assert len(issue_words(many)) == MAX_ISSUE_WORDS and "word0" in issue_words(many)


def test_a_customer_is_found_by_the_words_of_their_name():
    assert name_words("José  Müller-Lüdenscheidt") == ["jose", "muller", "ludenscheidt"]
