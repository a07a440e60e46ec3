"""Issue types' customer-facing texts per language: the `translations` block, its checks, `in_language`."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.issue_types import parse_issue_type, with_shared_calendars
from chalicelib.domain.templates import render
from chalicelib.domain.type_texts import (
    LANGUAGES,
    customer_texts,
    in_language,
    languages_of,
    missing_translations,
)
from chalicelib.services.issue_types import MAX_DEFINITION_LENGTH
from chalicelib.workflows.compiler import compile_issue_type
from chalicelib.workflows.seeds import load_seed_definitions, load_shared_calendars
from tests.unit.wiring import World, world

ADMIN = World.agent("ada", "admin")
QUEUE = "https://sqs.example/queue"


def seed(type_id: str) -> dict[str, Any]:
    definition = next(d for d in load_seed_definitions() if d["id"] == type_id)
    return copy.deepcopy(with_shared_calendars(definition, load_shared_calendars()))


def problems(definition: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_issue_type(definition)
    return {e.field: e.message for e in caught.value.errors}


def untranslated(definition: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in definition.items() if k not in ("translations", "default_language")}


def test_every_seed_has_its_customer_texts_in_all_five_languages():
    missing = {}
    for definition in load_seed_definitions():
        issue_type = parse_issue_type(with_shared_calendars(definition, load_shared_calendars()))
        if gaps := missing_translations(issue_type):
            missing[issue_type.id] = gaps
        assert languages_of(issue_type) == LANGUAGES, issue_type.id
    assert missing == {}, "seed texts without a translation:\n" + json.dumps(missing, indent=1)


def test_a_definition_without_translations_is_valid_and_lists_what_is_left():
    issue_type = parse_issue_type(untranslated(seed("late-delivery")))
    assert issue_type.default_language == "en" and issue_type.translations == {}
    assert languages_of(issue_type) == ("en",)
    missing = missing_translations(issue_type)
    assert set(missing) == {"de", "fr", "es", "tr"}
    assert missing["de"] == list(customer_texts(issue_type))
    assert {"name", "fields.order_number.help", "steps.tell_customer.body"} <= set(missing["de"])
    # The compensation's options are printed in the email (`compensation_label`): customers read them.
    assert "steps.courier_check.fields.compensation.options.voucher" in missing["de"]
    assert in_language(issue_type, "de").name == "Late delivery"


def test_a_missing_translation_falls_back_to_the_default_language_text_by_text():
    definition = untranslated(seed("damaged-product"))
    definition["translations"] = {
        "de": {"name": "Beschädigtes Produkt", "fields": {"wanted": {"options": {"refund": "Erstatten"}}}}
    }
    issue_type = parse_issue_type(definition)
    german = in_language(issue_type, "de")
    wanted = german.field("wanted")
    assert german.name == "Beschädigtes Produkt"
    assert german.description == issue_type.description
    assert wanted.label == "What would you like us to do"
    assert [o.label for o in wanted.options] == ["Send a replacement", "Erstatten", "Repair it"]
    assert [o.value for o in wanted.options] == ["replacement", "refund", "repair"]
    missing = missing_translations(issue_type)
    assert "name" not in missing["de"] and "fields.wanted.label" in missing["de"]
    assert languages_of(issue_type) == ("en", "de")


def test_in_language_translates_every_customer_text_of_a_seed():
    issue_type = parse_issue_type(seed("damaged-product"))
    french = in_language(issue_type, "fr")
    assert french.name == "Produit endommagé"
    assert french.field("order_number").help.startswith("Deux lettres majuscules")
    assert french.field("still_usable").display(True) == "Oui"
    assert french.attachments is not None and french.attachments.label == "Photos des dégâts"
    assert french.step("assess").label_for_customer == "Notre service retours évalue les dégâts"
    decision = next(f for f in french.step("assess").fields if f.id == "decision")
    assert decision.display("repair") == "Enlèvement et réparation"
    assert decision.label == "Decision"  # the agent's form label: for our team, never translated
    email = french.step("tell_customer")
    assert email.subject.startswith("Article endommagé") and "Notre décision" in email.body
    # What the type does is the same in every language.
    assert [s.id for s in french.all_steps()] == [s.id for s in issue_type.all_steps()]
    assert french.step("assess").deadline == issue_type.step("assess").deadline
    assert french.step("assess").assignee == issue_type.step("assess").assignee


def test_in_language_of_the_default_or_an_unknown_language_is_the_definition_itself():
    issue_type = parse_issue_type(seed("billing-dispute"))
    for language in ("en", "it", "", None):
        same = in_language(issue_type, language)  # type: ignore[arg-type]
        assert same.name == issue_type.name
        assert same.step("tell_customer").body == issue_type.step("tell_customer").body
        assert same.field("reason") == issue_type.field("reason")


def test_steps_without_a_customer_label_read_the_built_in_one_in_the_language():
    issue_type = parse_issue_type(seed("general-enquiry"))
    assert issue_type.step("send_answer").label_for_customer == "We are writing to you"
    assert in_language(issue_type, "de").step("send_answer").label_for_customer == "Wir schreiben Ihnen"
    assert in_language(issue_type, "tr").step("close_now").label_for_customer == "Çözüldü"
    assert in_language(issue_type, "es").step("answer").label_for_customer.startswith("Nuestro equipo")


def test_an_internal_types_acknowledgement_and_labels_are_translated():
    recovery = in_language(parse_issue_type(seed("service-recovery")), "es")
    assert recovery.acknowledgement is not None
    assert recovery.acknowledgement.subject.startswith("Lamentamos")
    assert recovery.step("call_back").label_for_customer.startswith("Un supervisor")
    assert recovery.customer_name == ""


def test_a_type_may_be_written_in_another_language_first():
    definition = untranslated(seed("demo-quick"))
    definition["default_language"] = "de"
    definition["name"] = "Demo mit kurzen Fristen"
    definition["translations"] = {"en": {"name": "Demo with quick deadlines"}}
    issue_type = parse_issue_type(definition)
    assert issue_type.default_language == "de"
    assert in_language(issue_type, "en").name == "Demo with quick deadlines"
    assert in_language(issue_type, "fr").name == "Demo mit kurzen Fristen"
    assert languages_of(issue_type) == ("de", "en")
    assert set(missing_translations(issue_type)) == {"en", "fr", "es", "tr"}
    definition["default_language"] = "it"
    definition["translations"] = {"de": {"name": "x"}}
    assert problems(definition)["default_language"] == "must be one of en, de, fr, es, tr"


def test_what_cannot_be_shown_is_refused_with_its_path():
    definition = untranslated(seed("damaged-product"))
    definition["translations"] = {
        "it": {"name": "Prodotto danneggiato"},
        "en": {"name": "Damaged"},
        "de": {
            "name": "",
            "colour": "rot",
            "fields": {
                "wanted": {"pattern": "x", "options": {"refund": "Erstatten", "swap": "Tausch", True: "Ja"}},
                "colour": {"label": "Farbe"},
                "delivery_date": {"help": "Das Datum auf dem Lieferschein"},
            },
            "steps": {
                "assess": {
                    "name": "Prüfung",
                    "fields": {"reason": {"label": "Grund"}, "decision": {"label": "Entscheidung"}},
                },
                "tell_customer": {"subject": "Ihr Artikel {{ issue.reference", "body": "{% if %}"},
                "refund": {"customer_label": "x" * 121, "subject": "Erstattung"},
                "courier": {"customer_label": "Kurier"},
            },
            "acknowledgement": {"subject": "Danke"},
        },
        "fr": "Produit endommagé",
    }
    found = problems(definition)
    assert set(found) == {
        "translations.it",
        "translations.en",
        "translations.fr",
        "translations.de.name",
        "translations.de.colour",
        "translations.de.fields.wanted.pattern",
        "translations.de.fields.wanted.options.swap",
        "translations.de.fields.wanted.options.true",
        "translations.de.fields.colour",
        "translations.de.steps.assess.name",
        "translations.de.steps.assess.fields.reason",
        "translations.de.steps.assess.fields.decision.label",
        "translations.de.steps.tell_customer.subject",
        "translations.de.steps.tell_customer.body",
        "translations.de.steps.refund.customer_label",
        "translations.de.steps.refund.subject",
        "translations.de.steps.courier",
        "translations.de.acknowledgement",
    }
    assert found["translations.it"] == "unknown language; use en, de, fr, es, tr"
    assert found["translations.en"] == "en is the default language: its texts are the definition's own"
    assert found["translations.fr"].startswith("must be a mapping of the texts in this language")
    assert found["translations.de.name"] == "must be text"
    swap = found["translations.de.fields.wanted.options.swap"]
    assert swap == "no option 'swap' of wanted; options: replacement, refund, repair"
    assert found["translations.de.steps.refund.customer_label"] == "must be text of at most 120 characters"
    assert found["translations.de.acknowledgement"] == "the type has no acknowledgement of its own to translate"
    assert found["translations.de.colour"].startswith("customers do not read a type's 'colour'")
    assert "translate label, help, options" in found["translations.de.fields.wanted.pattern"]
    assert "quote it" in found["translations.de.fields.wanted.options.true"]
    assert found["translations.de.fields.colour"].startswith("no customer field 'colour'; fields: order_number")
    assert "customers read its customer_label" in found["translations.de.steps.assess.name"]
    assert "written for our team" in found["translations.de.steps.assess.fields.reason"]
    assert "translate options" in found["translations.de.steps.assess.fields.decision.label"]
    for key in ("subject", "body"):
        assert found[f"translations.de.steps.tell_customer.{key}"].startswith("template error on line 1")
    assert "translate customer_label, fields" in found["translations.de.steps.refund.subject"]
    assert found["translations.de.steps.courier"].startswith("no step 'courier'; steps: assess, refund")


def test_what_customers_never_read_is_refused_even_where_it_exists():
    triage = untranslated(seed("triage"))
    triage["translations"] = {"de": {"name": "Zu klassifizierende Nachricht", "fields": {"message": {"label": "x"}}}}
    found = problems(triage)
    assert found["translations.de.name"] == "an internal type's name is written for our team; customers never read it"
    assert "translations.de.fields" in found
    billing = untranslated(seed("billing-dispute"))
    # The finding's options are for the agent: no template prints results.billing_review.finding_label.
    billing["translations"] = {
        "de": {"steps": {"billing_review": {"fields": {"finding": {"options": {"upheld": "Berechtigt"}}}}}}
    }
    assert problems(billing) == {
        "translations.de.steps.billing_review.fields.finding": (
            "customers never read it: no template prints results.billing_review.finding_label"
        )
    }
    general = untranslated(seed("general-enquiry"))
    general["translations"] = {"de": {"attachments": {"label": "Fotos"}}}
    assert problems(general) == {"translations.de.attachments": "the type takes no attachments"}


def test_a_language_may_write_a_text_the_default_language_leaves_out():
    definition = untranslated(seed("damaged-product"))
    del definition["attachments"]["label"]
    definition["translations"] = {
        "de": {
            "fields": {"delivery_date": {"help": "Das Datum auf dem Lieferschein."}},
            "steps": {"tell_customer": {"customer_label": "Wir schreiben Ihnen Ihre Entscheidung"}},
            "attachments": {"label": "Fotos des Schadens"},
        }
    }
    issue_type = parse_issue_type(definition)
    german, spanish = in_language(issue_type, "de"), in_language(issue_type, "es")
    assert german.field("delivery_date").help == "Das Datum auf dem Lieferschein."
    assert spanish.field("delivery_date").help == ""
    assert german.step("tell_customer").label_for_customer == "Wir schreiben Ihnen Ihre Entscheidung"
    assert spanish.step("tell_customer").label_for_customer == "Le estamos escribiendo"
    assert german.attachments.label == "Fotos des Schadens"
    assert spanish.attachments.label == "Fotos o documentos"


def test_translation_problems_wait_for_the_rest_of_the_definition_but_languages_do_not():
    definition = seed("late-delivery")
    definition["steps"][0]["deadline"] = "soon"
    definition["translations"]["xx"] = {}
    definition["translations"]["de"]["steps"]["nowhere"] = {"customer_label": "x"}
    found = problems(definition)
    assert "steps[0].deadline" in found and "translations.xx" in found
    assert not any(path.startswith("translations.de") for path in found)


def test_every_translated_email_of_the_seeds_renders():
    context = {
        "issue": {"id": "01J", "reference": "CF-ABCDE", "type": "x", "type_name": "x"},
        "customer": {"name": "Jo", "email": "jo@example.com", "segment": "standard"},
        "fields": {},
        "shown": {},
        "results": {},
    }
    for definition in load_seed_definitions():
        issue_type = parse_issue_type(with_shared_calendars(definition, load_shared_calendars()))
        for language in LANGUAGES:
            translated = in_language(issue_type, language)
            messages = [s for s in translated.all_steps() if s.subject]
            messages += [translated.acknowledgement] if translated.acknowledgement else []
            for step in messages:
                for template in (step.subject, step.body):
                    text = render(template, context)
                    assert text.strip() and "{{" not in text and "{%" not in text, (issue_type.id, language, step.id)
                    assert "CF-ABCDE" in render(step.subject, context) or "Jo" in render(step.body, context)


def test_a_published_definition_round_trips_with_its_translations():
    w = world()
    for definition in load_seed_definitions():
        stored, issue_type = w.services.issue_types.validate(definition)
        assert len(json.dumps(stored)) < MAX_DEFINITION_LENGTH / 2
        again = parse_issue_type(json.loads(json.dumps(stored)))
        assert again.translations == issue_type.translations and again.default_language == "en"
        asl = json.dumps(compile_issue_type(issue_type, QUEUE))
        # The state machine carries ids, never texts: translations change neither it nor its state size.
        assert asl == json.dumps(compile_issue_type(parse_issue_type(untranslated(stored)), QUEUE))


def test_the_validate_answer_lists_the_missing_translations_per_language():
    w = world()
    definition = untranslated(seed("general-enquiry"))
    definition["translations"] = {"fr": {"name": "Demande générale"}}
    answer = w.services.administration.validate(definition, ADMIN)
    assert answer["languages"] == ["en", "fr"]
    assert set(answer["missing_translations"]) == {"de", "fr", "es", "tr"}
    assert "name" in answer["missing_translations"]["de"] and "name" not in answer["missing_translations"]["fr"]
    assert "steps.send_answer.body" in answer["missing_translations"]["fr"]
    complete = w.services.administration.validate(seed("general-enquiry"), ADMIN)
    assert complete["missing_translations"] == {} and complete["languages"] == list(LANGUAGES)
