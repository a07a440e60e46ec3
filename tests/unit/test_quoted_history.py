import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.mail.quoted_history import split_quoted

MARKERS = ["> quoted", "-- ", "On Mon, 4 Mar 2024, A <a@example.com> wrote:", "-----Original Message-----", ""]
NEW = "Thanks, the parcel arrived today.\n\nBest regards\nKim"


@pytest.mark.parametrize(
    "history",
    [
        "On Mon, Mar 4, 2024 at 10:20 AM Caseflow Support <support@caseflow.test> wrote:\n> Hello",
        "On Mon, Mar 4, 2024 at 10:20 AM Caseflow Support <support@caseflow.test>\nwrote:\n\n> Hello",
        "On 04/03/2024 10:20, Caseflow Support wrote:\n> Hello",
        "Am 04.03.2024 um 10:20 schrieb Caseflow Support <support@caseflow.test>:\n> Hallo",
        "Am Mo., 4. März 2024 um 10:20 Uhr schrieb Caseflow Support <\nsupport@caseflow.test>:\n> Hallo",
        "Le lun. 4 mars 2024 à 10:20, Caseflow Support <support@caseflow.test> a écrit :\n> Bonjour",
        "El lun, 4 mar 2024 a las 10:20, Caseflow Support (<support@caseflow.test>) escribió:\n> Hola",
        "Op ma 4 mrt. 2024 om 10:20 schreef Caseflow Support <support@caseflow.test>:\n> Hallo",
        "Den 4 mars 2024 kl. 10:20 skrev Caseflow Support <support@caseflow.test>:\n> Hej",
        "Den man. 4. mar. 2024 kl. 10.20 skrev Caseflow Support <support@caseflow.test>:\n> Hej",
        "Il giorno lun 4 mar 2024 alle ore 10:20 Caseflow Support <support@caseflow.test> ha scritto:\n> Ciao",
        "W dniu 4.03.2024 o 10:20, Caseflow Support <support@caseflow.test> pisze:\n> Dzień dobry",
        "Em seg., 4 de mar. de 2024 às 10:20, Caseflow Support <support@caseflow.test> escreveu:\n> Olá",
        "Caseflow Support <support@caseflow.test>, 4 Mar 2024 Pzt, 10:20 tarihinde şunu yazdı:\n> Merhaba",
        "ma 4.3.2024 klo 10.20 Caseflow Support (support@caseflow.test) kirjoitti:\n> Hei",
        "ma 4.3.2024 klo 10.20 Caseflow Support <\nsupport@caseflow.test> kirjoitti:\n> Hei",
        "пн, 4 мар. 2024 г. в 10:20, Caseflow Support <support@caseflow.test>:\n> Здравствуйте",
        "4 марта 2024 г., в 10:20, Caseflow Support <support@caseflow.test> написал(а):\n> Здравствуйте",
        "2024年3月4日(月) 10:20 Caseflow Support <support@caseflow.test>:\n> こんにちは",
        "-----Original Message-----\nFrom: Caseflow Support\nSent: Monday, March 4, 2024 10:20 AM\nSubject: x\n\nHi",
        "-----Ursprüngliche Nachricht-----\nVon: Caseflow Support <support@caseflow.test>\nGesendet: Montag\n\nHallo",
        "-----Message d'origine-----\nDe : Caseflow Support\nEnvoyé : lundi 4 mars 2024 10:20\n\nBonjour",
        "________________________________\nFrom: Caseflow Support <support@caseflow.test>\nSent: 4 March 2024\n\nHi",
        "________________________________\nVon: Caseflow Support <support@caseflow.test>\nGesendet: 4. März\n\nHi",
        "________________________________\nDe : Caseflow Support\nEnvoyé : 4 mars 2024\n\nBonjour",
        "________________________________\nFrån: Caseflow Support <support@caseflow.test>\nSkickat: 4 mars\n\nHej",
        "________________________________\nFra: Caseflow Support <support@caseflow.test>\nSendt: 4. marts\n\nHej",
        "________________________________\nLähettäjä: Caseflow Support\nLähetetty: 4. maaliskuuta\n\nHei",
        "From: Caseflow Support <support@caseflow.test>\nSent: Monday, March 4, 2024 10:20\nTo: Kim\nSubject: x\n\nHi",
        "*From:* Caseflow Support <support@caseflow.test>\n*Sent:* Monday\n*To:* Kim\n*Subject:* x\n\nHi",
        "---------- Forwarded message ---------\nFrom: Shop <shop@example.com>\nSubject: Shipped\n\nShipped",
        "Begin forwarded message:\n\nFrom: Shop <shop@example.com>\nSubject: Shipped\n\nShipped",
        "-------- Weitergeleitete Nachricht --------\nBetreff: Versand\nDatum: 4.3.2024\n\nVersendet",
        "-------- Message transféré --------\nSujet : Expédié\n\nExpédié",
        "> Hello Kim,\n>\n> your parcel is on its way.\n",
    ],
)
def test_new_text_is_separated_from_the_history(history):
    new_text, quoted = split_quoted(f"{NEW}\n\n{history}")
    assert new_text == NEW
    assert quoted == history.strip()


def test_signature_after_the_separator_is_not_new_text():
    new_text, quoted = split_quoted(f"{NEW}\n-- \nKim Lee | Example Ltd\n+1 555 0100")
    assert (new_text, quoted) == (NEW, "")


def test_signature_between_reply_and_history_is_dropped_from_both():
    text = f"{NEW}\n-- \nKim Lee\n\nOn Mon, 4 Mar 2024, Support <support@caseflow.test> wrote:\n> Hello"
    assert split_quoted(text) == (NEW, "On Mon, 4 Mar 2024, Support <support@caseflow.test> wrote:\n> Hello")


@pytest.mark.parametrize("text", [f"{NEW}\n--\nnot a separator", f"{NEW}\n---\nalso not", f"{NEW}\n -- \nindented"])
def test_only_an_exact_signature_separator_cuts(text):
    assert split_quoted(text) == (text, "")


def test_an_empty_reply_has_no_new_text():
    quoted = "On Mon, 4 Mar 2024, Support <support@caseflow.test> wrote:\n> Hello\n> Kim"
    assert split_quoted(f"\n\n{quoted}\n") == ("", quoted)
    assert split_quoted("> only\n> quoted") == ("", "> only\n> quoted")
    assert split_quoted("") == ("", "")


def test_a_forward_without_a_note_has_no_new_text():
    text = "---------- Forwarded message ---------\nFrom: Shop <shop@example.com>\n\nShipped"
    assert split_quoted(text) == ("", text)


def test_a_reply_below_the_quote_is_the_new_text():
    text = "On Mon, 4 Mar 2024, Support <support@caseflow.test> wrote:\n> Which store?\n\nThe Riverside one."
    assert split_quoted(text) == (
        "The Riverside one.",
        "On Mon, 4 Mar 2024, Support <support@caseflow.test> wrote:\n> Which store?",
    )


def test_quotes_answered_inline_stay_in_the_new_text():
    text = "> Which store?\nRiverside.\n> What time?\nAround 3 pm.\n\n> Thanks\n> Support"
    assert split_quoted(text) == ("> Which store?\nRiverside.\n> What time?\nAround 3 pm.", "> Thanks\n> Support")


@pytest.mark.parametrize(
    "text",
    [
        "From: London\nTo: Paris\nThe train was three hours late.",
        "On Monday I will call the store.\nPlease wait for me.",
        "I wrote:\nthe box was wet.",
        "My order 4411: the lid was broken.",
        "Please reply to <kim@example.com>: thanks",
        "Subject: my broken lamp\nDate: last Friday",
    ],
)
def test_ordinary_text_is_not_mistaken_for_history(text):
    assert split_quoted(text) == (text, "")


def test_crlf_and_trailing_whitespace():
    new_text, quoted = split_quoted("Hello  \r\nthere   \r\n\r\n> old\r\n")
    assert (new_text, quoted) == ("Hello  \nthere", "> old")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(MARKERS),
        ),
        max_size=15,
    )
)
def test_new_text_only_ever_holds_lines_of_the_input(lines):
    text = "\n".join(lines)
    new_text, quoted = split_quoted(text)
    assert new_text == new_text.rstrip()
    source = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for line in new_text.split("\n") if new_text else []:
        assert any(original.startswith(line) for original in source)
    assert isinstance(quoted, str)
